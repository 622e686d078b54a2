"""How the attention report looks: colours, the page's inline CSS and the legend.

`han.report` renders the documents (what is shown); this module holds only their style, so a new
colour or layout rule changes one file.
"""

from __future__ import annotations

WORD_RGB = "234, 88, 12"  # orange: words
SENT_RGB = "37, 99, 235"  # blue: sentences
GRAD_RGB = "22, 163, 74"  # green: gradient importance


CSS = f"""
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: #f4f5f7; color: #1f2328;
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }}
main {{ max-width: 980px; margin: 0 auto; padding: 2rem 1.25rem 4rem; }}
h1 {{ font-size: 1.6rem; margin: 0 0 .25rem; }}
.subtitle {{ color: #57606a; margin: 0 0 .25rem; }}
.summary {{ color: #57606a; font-size: .9rem; margin: 0 0 1.25rem; }}
.legend {{ display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; font-size: .85rem;
  color: #57606a; background: #fff; border: 1px solid #d8dee4; border-radius: 8px;
  padding: .6rem .9rem; margin-bottom: 1.5rem; }}
.ramp {{ display: inline-block; width: 90px; height: 12px; border-radius: 3px;
  vertical-align: middle; margin: 0 .35rem; }}
.ramp.words {{ background: linear-gradient(to right, rgba({WORD_RGB}, 0), rgb({WORD_RGB})); }}
.ramp.sents {{ background: linear-gradient(to right, rgba({SENT_RGB}, 0), rgb({SENT_RGB})); }}
.ramp.grads {{ background: linear-gradient(to right, rgba({GRAD_RGB}, 0), rgb({GRAD_RGB})); }}
.doc {{ background: #fff; border: 1px solid #d8dee4; border-radius: 10px; margin-bottom: 1.5rem;
  overflow: hidden; box-shadow: 0 1px 2px rgba(0, 0, 0, .04); }}
.doc.correct {{ border-top: 4px solid #1a7f37; }}
.doc.wrong {{ border-top: 4px solid #cf222e; }}
.head {{ display: flex; flex-wrap: wrap; justify-content: space-between; gap: 1rem;
  padding: .9rem 1.1rem; border-bottom: 1px solid #eaeef2; background: #fafbfc; }}
.meta {{ font-size: .92rem; }}
.docid {{ font: 600 1rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  word-break: break-all; }}
.badge {{ display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .85rem;
  background: #eaeef2; margin-right: .4rem; }}
.badge.ok {{ background: #dafbe1; color: #1a7f37; }}
.badge.bad {{ background: #ffebe9; color: #cf222e; }}
table.probs {{ border-collapse: collapse; font-size: .82rem; min-width: 240px; }}
table.probs td {{ padding: 1px 4px; }}
table.probs td.cls {{ text-align: right; max-width: 12rem; overflow-wrap: anywhere; }}
table.probs tr.pred td.cls {{ font-weight: 600; }}
.pbar {{ width: 120px; height: 9px; background: #eaeef2; border-radius: 3px; overflow: hidden; }}
.pbar div {{ height: 100%; background: #8c959f; }}
tr.pred .pbar div {{ background: rgb({WORD_RGB}); }}
.body {{ padding: .5rem .6rem .8rem; }}
.sent {{ display: grid; grid-template-columns: 4.6rem 1fr; gap: .75rem; align-items: start;
  padding: .3rem .5rem; border-left: 6px solid transparent; border-radius: 3px; }}
.sent.flat {{ grid-template-columns: 1fr; border-left: 0; }}
.sent.grad {{ grid-template-columns: 4.6rem 1fr 1fr; }}
.erasure {{ font-size: .85rem; color: #57606a; margin-top: .3rem; }}
.satt {{ font: .78rem/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: #57606a; padding-top: .35rem; }}
.sbar {{ height: 5px; background: #eaeef2; border-radius: 2px; margin-top: 3px; }}
.sbar div {{ height: 100%; background: rgb({SENT_RGB}); border-radius: 2px; }}
.words {{ line-height: 1.9; overflow-wrap: anywhere; }}
.w {{ padding: 1px 1px; border-radius: 3px; }}
.empty {{ color: #8c959f; font-style: italic; }}
"""


def legend(hierarchical: bool, flat: bool, gradient: bool = False) -> str:
    """The key above the documents: what each colour ramp means for the models shown."""
    parts = []
    if hierarchical:
        parts.append(
            '<span>Sentences: 0<span class="ramp sents"></span>max α<sub>s</sub> '
            "(left bar and value: sentence attention)</span>"
        )
        parts.append(
            '<span>Words (hierarchical): 0<span class="ramp words"></span>'
            "max √α<sub>s</sub>·α<sub>w</sub> per document</span>"
        )
    if flat:
        parts.append(
            '<span>Words (flat): 0<span class="ramp words"></span>'
            "max α<sub>w</sub> per document</span>"
        )
    if gradient:
        parts.append(
            '<span>Right column, gradient importance: 0<span class="ramp grads"></span>'
            "max |∇<sub>x</sub>p·x| per document</span>"
        )
    parts.append("<span>Hover a word for its raw weights.</span>")
    return f'<div class="legend">{"".join(parts)}</div>'
