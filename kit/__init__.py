"""The kit's own machinery, which you use but never edit.

- kit/validation.py: the input checks of the loss functions and classifiers
  (a wrong shape or label is one clear ValueError);
- kit/progress.py: the progress line of training and the grid search;
- kit/display.py: how the checks show themselves in Jupyter;
- kit/stubs.py: the parts still to write (submit.py and the tests' summary);
- kit/colab.py: the Google Colab set-up the notebook's first cell calls there;
- kit/kernel.py: the kit's Jupyter kernel, registered in .venv by setup.sh.

Your code lives in classifiers/ and in the notebook.
"""
