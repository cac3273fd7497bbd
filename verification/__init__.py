"""Verification layer: Z3 models of the contracts, proofs of P1 to P10, coverage, conformance, mutants."""
