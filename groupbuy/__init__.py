"""Pinke's domain: courses sold by group-buy (拼课).

This package holds the business rules and imports none of the adapters (Flask, wechatpy, rq).
It talks to the outside world through the ports in `groupbuy.ports`, wired in `config.wiring`.
"""
