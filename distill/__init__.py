"""HPD distillation (Homomorphic Projective Distillation): `python -m distill --help`."""
