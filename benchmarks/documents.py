"""Documents benchmark: how fast documents render (HTML at issue, PDF on first download) and how big a PDF is.

In this process, on a fresh SQLite file built by the migrations and seeded like `make run`:
* issue: N acceptances through POST /api/cases (Flask test client), each issuing its numbered
  受理通知书 (render + SHA-256 + store + audit event), and the same N with the receipt alone
  re-rendered by `app.documents.render.html` (the template's share);
* pdf: M of those receipts rendered to PDF by WeasyPrint (`render.pdf`) from their stored HTML,
  CPU seconds (time.process_time) and wall seconds, median of R rounds; the PDF sizes.
It also writes tests/artifacts/receipt.pdf and refusal_notice.pdf with their first pages as PNG
(pdftoppm, 100 dpi) for people to look at.
Run: `.venv/bin/python -m benchmarks.documents --cases 60 --pdfs 10 --rounds 3`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from app import create_app
from app.documents import render
from app.documents import service as documents
from app.extensions import db

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
FOOD = ["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明", "食品安全管理制度文本"]


def _app(folder: str):
    from flask_migrate import upgrade

    from app.identity import demo
    from app.matters import service as matters
    from app.processes import service as processes

    app = create_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db", SCHEDULER_ENABLED=False, TESTING=True)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        demo.seed()
        processes.sync(directory=app.config["BPMN_DIR"])
        matters.load_catalog(path=Path(app.config["BPMN_DIR"]) / "catalog.toml")
        db.session.commit()
    return app


def _body(**extra) -> dict:
    applicant = {"name": "张三", "id_number": "11010519491231002X", "phone": "13800000000"}
    materials = [{"name": n, "provided": True} for n in FOOD]
    return {"matter_code": "SC-001", "applicant": applicant, "materials": materials, "data": {}} | extra


def _timed(call) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--pdfs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
        client = app.test_client()
        token = client.post("/api/auth/token", json={"username": "window1", "password": "demo123"}).get_json()
        headers = {"Authorization": f"Bearer {token['token']}"}

        def accept_all():
            for _ in range(args.cases):
                assert client.post("/api/cases", json=_body(), headers=headers).status_code == 201

        accept_cpu, accept_wall = _timed(accept_all)
        with app.app_context():
            rows = documents.list_for_case(case_id=1)
            receipt = rows[0]
            context = {"issuer": "市场监督管理局", "title": "受理通知书", "number": receipt.number, "seal": None}
            context |= {"case_number": "YC1", "matter_name": "食品经营许可", "place": "窗口", "applicant_name": "张三"}
            context |= {"clerk": "王窗口", "issued_on": "2026年12月1日", "received_on": "", "accepted_on": ""}
            context |= {"statutory_days": 20, "promised_days": 10, "statutory_due": "", "promised_due": ""}
            context |= {"received": FOOD, "deferred": []}
            html_cpu = [_timed(lambda: [render.html("receipt", context) for _ in range(args.cases)])[0]]
            stored = [d.html for d in documents.list_for_case(case_id=1)] * args.pdfs
            pdf_rounds = [_timed(lambda: [render.pdf(h) for h in stored[: args.pdfs]]) for _ in range(args.rounds)]
            sizes = [len(render.pdf(stored[0]))]
        refused = client.post(
            "/api/cases", json=_body(intake="refuse", reason="申请事项不属于本机关职权范围"), headers=headers
        )
        ARTIFACTS.mkdir(exist_ok=True)
        for kind, document_id in (
            ("receipt", receipt.id),
            ("refusal_notice", refused.get_json()["documents"][0]["id"]),
        ):
            pdf = client.get(f"/api/documents/{document_id}.pdf", headers=headers).data
            sizes.append(len(pdf))
            (ARTIFACTS / f"{kind}.pdf").write_bytes(pdf)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "100",
                    "-singlefile",
                    str(ARTIFACTS / f"{kind}.pdf"),
                    str(ARTIFACTS / f"document-{kind}"),
                ],
                check=True,
            )
    pdf_cpu = statistics.median(r[0] for r in pdf_rounds) / args.pdfs
    pdf_wall = statistics.median(r[1] for r in pdf_rounds) / args.pdfs
    print(
        f"acceptances with receipt: {args.cases / accept_wall:.1f}/s wall, "
        f"{accept_cpu / args.cases * 1000:.1f} ms CPU each"
    )
    print(f"receipt HTML render alone: {args.cases / html_cpu[0]:.0f}/s CPU")
    print(
        f"PDF render (WeasyPrint): {1 / pdf_cpu:.2f}/s CPU ({pdf_cpu * 1000:.0f} ms CPU, "
        f"{pdf_wall * 1000:.0f} ms wall each, median of {args.rounds} rounds of {args.pdfs})"
    )
    print(f"PDF sizes (bytes): {sizes}")
    print(f"PNGs: {ARTIFACTS / 'document-receipt.png'}, {ARTIFACTS / 'document-refusal_notice.png'}")


if __name__ == "__main__":
    main()
