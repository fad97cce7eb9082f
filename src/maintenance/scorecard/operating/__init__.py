"""The operating log (运行记录): per unit per month, hours run, planned hours and load, and the
rates built on it and on the registry: 连运率, 负荷率 and 完好率."""
