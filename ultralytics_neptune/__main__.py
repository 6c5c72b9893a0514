import sys

from ultralytics_neptune.cli import main

sys.exit(main())
