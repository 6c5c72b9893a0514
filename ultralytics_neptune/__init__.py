"""Neptune logging for Ultralytics YOLO, kept alive after its removal from Ultralytics 8.4.132."""

from ultralytics_neptune.registration import add_neptune_callbacks, neptune_callbacks

__version__ = "0.1.0"
__all__ = ["__version__", "add_neptune_callbacks", "neptune_callbacks"]
