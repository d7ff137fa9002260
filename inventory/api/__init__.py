"""HTTP API: schemas, guards, problem mapping and one controller module per resource."""
