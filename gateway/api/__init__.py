"""HTTP API: dependencies (:mod:`gateway.api.deps`) and one router per resource."""
