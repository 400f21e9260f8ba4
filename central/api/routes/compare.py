"""Compare a base and a head of the caller's org: GET /api/v1/compare."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from central import repository
from central.api.deps import ReaderDep, SessionDep
from central.compare import compare
from central.compare_repository import Scope
from central.compare_schemas import ComparisonPublic
from central.schemas import MAX_SAMPLES, StatTest

router = APIRouter(prefix="/api/v1/compare", tags=["compare"])
Spec = Annotated[
    str,
    Query(
        min_length=1, max_length=4000,
        description="run:ID[,ID...] | commit:SHA | branch:NAME, or bare (must name exactly one of those)",
    ),
]  # fmt: skip


@router.get("", response_model=ComparisonPublic)
def compare_runs(
    base: Spec,
    head: Spec,
    session: SessionDep,
    who: ReaderDep,
    project: Annotated[str | None, Query(max_length=200)] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    test: StatTest | None = None,
    alpha: Annotated[float | None, Query(gt=0, lt=1)] = None,
    limit: Annotated[float | None, Query(gt=0, le=1000)] = None,
    min_samples: Annotated[int | None, Query(ge=1, le=MAX_SAMPLES)] = None,
    min_effect: Annotated[float | None, Query(ge=0, le=1000)] = None,
    window: Annotated[int | None, Query(ge=2, le=100)] = None,
    confidence: Annotated[float, Query(ge=0.5, le=0.999)] = 0.95,
) -> Response:
    """Every result of head against base: centres with CIs, change, p-value and a verdict.

    Thresholds come from the head's bhub.yaml (sent with its run); a parameter given here
    overrides them for every measure.
    """
    given = {"test": test, "alpha": alpha, "limit": limit, "min_samples": min_samples,
             "min_effect": min_effect, "window": window}  # fmt: skip
    overrides: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    scope = Scope(repository.check_org(who, None), project, target)
    made = compare(session, scope, base, head, overrides, confidence, org=who.org or "")
    # serialized once here: FastAPI would validate 10,000 results again before encoding them
    return Response(made.to_json(), media_type="application/json")
