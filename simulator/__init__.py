"""The crowd simulator (`flask simulate`): synthetic people who arrive, open and join groups, share them with
friends, pay through the WeChat sandbox or walk away, played against the running system over HTTP exactly as
clients call it. It reports the product's figures (成团率, time to fill, the nudges' effect) and the system's
(joins/s, join latency, deadline lag, oversold seats, `flask audit`), and over a grid of group rules it gives
the operator a table of what to set.

    behaviour.py  the people's parameters (JSON) and the pure decisions drawn from them
    timeline.py   timed actions on a heap, run by a small thread pool (most people are idle, waiting)
    driver.py     the HTTP calls a client makes, timed and counted
    crowd.py      the people: arrive, open, join, pay or abandon, share, answer a nudge
    system.py     what the server's database says afterwards (the CLI runs beside it)
    report.py     the figures as tables and JSON;  advice.py  the grid's "what to set" table
    fit.py        behaviour parameters fitted from a campaign's recorded events
    run.py        one simulation from start to figures;  command.py  `flask simulate`
    latest.py     the latest report in the instance dir, for the console's 模拟 page
"""
