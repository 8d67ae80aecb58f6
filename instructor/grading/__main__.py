"""`python -m instructor.grading ...`: see instructor/grading/cli.py."""

import sys

from instructor.grading.cli import main

sys.exit(main())
