"""Attention analysis: what the attention learned (Figures 3-4) and whether it explains the
prediction (faithfulness tests). docs/ATTENTION.md."""
