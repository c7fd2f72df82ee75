"""`python -m handover_cli`, the same as the `handover` command."""

from handover_cli.main import main

main()
