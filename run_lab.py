#!/usr/bin/env python
"""The slm_acl command line, kept at the top level; the same as the `slm-acl` console script (slm_acl/cli.py)."""
import sys

from slm_acl.cli import main

if __name__ == "__main__":
    sys.exit(main())
