"""Run ``python -m xner``."""
from xner.cli import main

main()
