import sys

from threadline_devstack.cluster.story import main

sys.exit(main())
