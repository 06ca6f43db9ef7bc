"""`python -m rnncompare <command>`: the commands of rnncompare/commands."""

from rnncompare.commands import main

main()
