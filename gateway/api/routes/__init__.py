"""One module per resource, each with one ``APIRouter(prefix=..., tags=[...])``.

A route authenticates through :mod:`gateway.api.deps`, hands the work to the write path
(:mod:`gateway.writes`) or the read path (:mod:`gateway.reads`) and answers with a model of
:mod:`gateway.models` or :mod:`gateway.reads.views`; domain errors become HTTP answers in
:mod:`gateway.errors`' one exception handler.
"""
