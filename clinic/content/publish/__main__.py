"""`python -m clinic.content.publish` (`make publish`): see the package's docstring."""

import sys

from clinic.content.publish import main

sys.exit(main())
