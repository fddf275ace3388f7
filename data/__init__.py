"""The embedded demo region (Isfahan), installed with siteplan as the package ``siteplan.demo``
(see ``siteplan.pipeline.demo_scenario_path``). Its files are data, not code."""
