"""Former home of the detection exports; kept so older imports keep working.

MOT Challenge ``det.txt``, JSON lines and CSV writers and their strict
readers are in :mod:`bgmix.outputs.tables`.
"""

from bgmix.outputs.tables import (
    CSV_HEADER,
    JSONL_KEYS,
    MOT_ORIGIN,
    CsvWriter,
    JsonlWriter,
    MotWriter,
    mot_boxes,
    open_writer,
    partial_path,
    read_csv,
    read_jsonl,
    read_mot,
)

__all__ = ["CSV_HEADER", "JSONL_KEYS", "CsvWriter", "JsonlWriter", "MOT_ORIGIN", "MotWriter",
           "mot_boxes", "open_writer", "partial_path", "read_csv", "read_jsonl", "read_mot"]
