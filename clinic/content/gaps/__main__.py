"""`python -m clinic.content.gaps` (`make gaps`): see the package's docstring."""

import sys

from clinic.content.gaps import main

sys.exit(main())
