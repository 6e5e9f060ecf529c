"""Scheduled capacity digests: samples of subnet and node capacity, trends and forecasts, recommendations, a
chart, posted to Slack channels exactly once per period across replicas.

Pure parts: schedule, model, measure, thinning, forecast, outlook, recommend, content, render, chart.
I/O: observe (sampling through the cluster gatherer), builder (a digest from the stored samples), sources
(why-pending and approval records), slack (posting), poster (claims), service (jobs and their wiring).
"""
