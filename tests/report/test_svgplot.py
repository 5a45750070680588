"""svgplot: values in the panel's unit, a y scale that shows every threshold, lines broken where data is
missing, and every text escaped."""

from __future__ import annotations

import re

from stack.runtime.outcome import Series, Threshold
from stack.runtime.report import fault_words
from stack.runtime.svgplot import Mark, Plot, Window, _cells, fmt, heatmap, scale_top, segments, svg, y_ticks


def test_values_are_written_in_the_units_a_reader_uses() -> None:
    """Seconds below one as milliseconds, ratios as percent, rates with their unit, bytes in binary prefixes."""
    assert fmt(0.2, "s") == "200 ms"
    assert fmt(0.225, "s") == "225 ms"
    assert fmt(1.5, "s") == "1.5 s"
    assert fmt(0.01, "percentunit") == "1 %"
    assert fmt(0.955, "percentunit") == "95.5 %"
    assert fmt(12.5, "reqps") == "12.5 req/s"
    assert fmt(3 * 1024 * 1024, "bytes") == "3 MiB"
    assert fmt(14.4, "suffix:x") == "14.4x"
    assert fmt(100, "short") == "100"
    assert fmt(0, "s") == "0 ms"


def test_fault_settings_read_as_words_and_units() -> None:
    """The fault toggles verify sets are described, not printed as a dict."""
    assert fault_words({"latency_seconds": 0.225}) == "latency +225 ms on every request"
    assert fault_words({"error_rate": 0.03}) == "HTTP 500 on 3 % of requests"
    assert fault_words({"hold_connections": 9}) == "9 DB pool connections held"


def test_the_y_scale_reaches_the_critical_threshold_above_the_data() -> None:
    """A quiet signal still shows its thresholds: the scale's top is above the highest threshold."""
    plot = Plot("p95", 0, 60, "s", series=(Series("p95", [(0, 0.01), (30, 0.02)]),),
                thresholds=(Threshold("warning", 0.2), Threshold("critical", 0.5)))  # fmt: skip
    top = scale_top(plot)
    assert top >= 0.5
    assert top in y_ticks(top)
    assert y_ticks(top)[0] == 0


def test_a_gap_in_the_data_breaks_the_line() -> None:
    """No line is drawn across a span with no samples (more than twice the usual interval)."""
    points = [(float(t), 1.0) for t in (0, 5, 10, 15, 60, 65, 70)]
    assert [len(part) for part in segments(points)] == [4, 3]
    assert segments([]) == []
    assert segments([(1.0, 2.0)]) == [[(1.0, 2.0)]]


def test_the_svg_marks_faults_alerts_thresholds_and_both_axes() -> None:
    """One plot carries the fault window with its label, the fired and resolved marks, the dashed threshold
    lines labelled with their values, the time axis in seconds with wall-clock ends, and the y unit."""
    plot = Plot("latency", 1000.0, 1600.0, "s", 1200, 250, (Series("p95", [(1000.0, 0.05), (1300.0, 0.3)]),),
                (Threshold("warning", 0.2), Threshold("critical", 0.5)),
                (Window(1100.0, 1200.0, "latency +225 ms on every request"),),
                (Mark(1140.0, "fired", "HighLatency"), Mark(1230.0, "resolved", "HighLatency")))  # fmt: skip
    text = svg(plot)
    assert '<line class="threshold warning"' in text
    assert ">warning 200 ms</text>" in text
    assert ">critical 500 ms</text>" in text
    assert '<rect class="fault"' in text
    assert ">latency +225 ms on every request</text>" in text
    assert '<line class="mark fired"' in text
    assert '<line class="mark resolved"' in text
    assert ">seconds since the run started</text>" in text
    assert ">00:16:40 UTC</text>" in text  # 1000 s after the epoch
    assert ">00:26:40 UTC</text>" in text
    assert re.search(r'class="xtick"[^>]*>0 s<', text)
    assert re.search(r'class="xtick"[^>]*>600 s<', text)
    assert re.search(r'class="ytick"[^>]*>\d+ ms<', text)
    assert ">duration</text>" in text  # the y axis says what it measures (its ticks carry ms or s)


def test_text_in_the_svg_is_escaped() -> None:
    """A series name or label from Prometheus cannot inject markup."""
    plot = Plot("<b>", 0, 10, "", series=(Series("<script>x</script>", [(0, 1), (5, 2)]),),
                windows=(Window(1, 2, "a<b"),))  # fmt: skip
    text = svg(plot)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert 'aria-label="&lt;b&gt;"' in text


def test_a_heatmap_draws_each_bucket_alone() -> None:
    """Cumulative `le` series become one band per bucket holding only its own requests (the cumulative value
    less the bucket below), lowest edge first, +Inf last; a band with nothing is not drawn."""
    series = (Series("+Inf", [(0, 10.0), (5, 12.0)]), Series("0.1", [(0, 6.0), (5, 6.0)]),
              Series("0.5", [(0, 9.0), (5, 6.0)]))  # fmt: skip
    plot = Plot("Latency distribution", 0, 10, "reqps", series=series)
    labels, cells = _cells(plot)
    assert labels == ["0.1", "0.5", "+Inf"]
    assert cells == [(0, 0, 6.0), (0, 1, 3.0), (0, 2, 1.0), (5, 0, 6.0), (5, 1, 0.0), (5, 2, 6.0)]
    text = heatmap(plot)
    assert text.startswith('<svg class="plot heatmap"')
    assert text.count('<rect class="cell"') == 5
    assert 'fill-opacity="1.0"' in text  # the fullest cell
    assert ">+Inf</text>" in text
