"""`python -m clinic.content.check` (`make check-content`): see the package's docstring."""

import sys

from clinic.content.check import main

sys.exit(main())
