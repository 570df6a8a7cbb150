"""The MRV lab (监测、报告与核查): a power generating unit's monthly monitoring data, the emission
calculator of the accounting guidelines, the data-quality checks a platform runs, the deposit
calendar and the fines of the 2024 Regulation. Pure: no I/O, no clock, no randomness; dates
come from the caller (the market clock). docs/mrv.md explains the package.

Quantities are ``Decimal`` inputs, as monitoring data is written (21.000 GJ/t), computed exactly
as fractions and rounded once, half up, where a figure is reported (0.01 t of CO2).
"""
