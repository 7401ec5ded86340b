"""Published video-reconstruction numbers for `benchmarks/reproduce_published.py`, each with
the paper, the table and row it comes from, and the text it was read in.

Only numbers found in the sources searched are here (issue 21: looked up, never typed from
memory). The FOMM paper's comparison table (arXiv 2003.00196) and the TPSMM paper's Table 1
(arXiv 2203.14367) could not be read themselves: the stored copies of their pages give only
the opening text, and the official READMEs carry no table. Two FOMM VoxCeleb values were found
quoted from the paper in the official repositories' issue threads, where the author answered
without disputing them; they are marked as such, and the table's number is not given because
it was not seen. Every other (method, dataset, metric) prints "no published value found",
with the reason: add a number here only with the text it was read in.
"""

from __future__ import annotations

import dataclasses

FOMM = (
    "Siarohin et al., First Order Motion Model for Image Animation, NeurIPS 2019 (arXiv 2003.00196)"
)
TPSMM = (
    "Zhao and Zhang, Thin-Plate Spline Motion Model for Image Animation, CVPR 2022 "
    "(arXiv 2203.14367)"
)


@dataclasses.dataclass(frozen=True)
class Published:
    method: str  # fomm | tpsmm
    dataset: str  # vox | ted
    metric: str  # l1 | akd | mkr | aed
    text: str  # the number as the source prints it
    paper: str
    where: str  # table and row, as far as the source shows them
    evidence: str  # the text the number was read in

    @property
    def value(self) -> float:
        return float(self.text)

    def citation(self) -> str:
        return f"{self.paper}: {self.where}; read in {self.evidence}"


PUBLISHED: tuple[Published, ...] = (
    Published(
        "fomm",
        "vox",
        "akd",
        "1.294",
        FOMM,
        "video-reconstruction comparison, VoxCeleb AKD, row of FOMM (the paper's 'Ours'); "
        "table number not seen",
        "AliaksandrSiarohin/pose-evaluation issue #2 (2020-10-20), quoting the paper: 'in your "
        "paper, that number is only 1.119 of dataset nemo, 1.294 of dataset Voxceleb' (the "
        "author: 'It is the value in absolute coordinates')",
    ),
    Published(
        "fomm",
        "vox",
        "aed",
        "0.140",
        FOMM,
        "video-reconstruction comparison, VoxCeleb AED, row of FOMM (the paper's 'Ours'); "
        "table number not seen",
        "AliaksandrSiarohin/first-order-model issue #148 (2020-06-11), quoting the paper: 'on "
        "AED metric on VoxCeleb dataset, in the paper, the reported result is 0.140'",
    ),
)

_UNREAD = "the table itself could not be read in the sources searched; not typed from memory"
# (method, dataset) -> why a metric of it has no published value here
NOT_FOUND: dict[tuple[str, str], str] = {
    ("fomm", "vox"): f"no published value found ({FOMM}: {_UNREAD})",
    ("fomm", "ted"): "no published value found (the FOMM paper has no TED-talks results; the "
    f"MRAA and TPSMM papers report FOMM on TED-talks: {_UNREAD})",
    ("tpsmm", "vox"): f"no published value found ({TPSMM}, Table 1: {_UNREAD})",
    ("tpsmm", "ted"): f"no published value found ({TPSMM}, Table 1: {_UNREAD})",
}
