"""SASRec-CE against BERT4Rec on beauty (main suite, version 0.3.0, trained to early stopping,
3 seeds each): paired tests over users of the per-user metric averaged over the seeds.

    python results/investigations/bert4rec-vs-sasrec-beauty/compare.py > .../output.txt
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from compare_models import main  # noqa: E402

main("sasrec", "bert4rec")
