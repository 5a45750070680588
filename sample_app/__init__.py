"""obsstack's sample service: an orders API instrumented by `sample_app.observability`."""
