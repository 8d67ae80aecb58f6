"""CIFAR-10 for the kit: ``get_cifar10.py`` downloads and verifies it (or writes an
offline stand-in), ``cifar10.py`` loads it safely and cuts the standard splits."""
