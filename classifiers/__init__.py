"""The classifiers you implement: the softmax loss pair and a linear classifier.

Import from the modules themselves (`from classifiers.softmax import ...`):
this package deliberately imports nothing, so a mistake in one file never
stops the other from loading.
"""
