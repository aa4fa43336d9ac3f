"""``python -m bgmix``: the ``bgmix`` command."""

import sys

from bgmix.cli import main

if __name__ == "__main__":
    sys.exit(main())
