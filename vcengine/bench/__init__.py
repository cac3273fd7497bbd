"""Performance benchmarks: gas against the EVM floor (`floors`, `gas`), against population
(`scaling`), chain throughput (`throughput`), charts (`plots`) and the `vc bench` commands (`cli`)."""
