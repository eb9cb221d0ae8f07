"""parsl.log exactly when logging is on; logconfigs; the logger helpers' return value."""
import io
import logging
import os

from _diffkit import report

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.logconfigs.file import FileLogging
from parsl.logconfigs.noop import NoopLogging


@python_app
def one():
    return 1


out = []
for setting in (True, False, NoopLogging(), FileLogging()):
    with parsl.load(Config(initialize_logging=setting)) as dfk:
        one().result()
    out.append(os.path.exists(os.path.join(dfk.run_dir, "parsl.log")))

stream = io.StringIO()
detach = parsl.set_stream_logger("diff.check", logging.INFO, "%(message)s", stream=stream)
logging.getLogger("diff.check").info("seen")
out.append(callable(detach))
detach()
logging.getLogger("diff.check").info("not seen")
out.append(stream.getvalue())
detach_file = parsl.set_file_logger("file.log", "diff.file", logging.INFO, "%(message)s")
logging.getLogger("diff.file").info("in file")
detach_file()
logging.getLogger("diff.file").info("after")
out.append(open("file.log").read())
report(out)
