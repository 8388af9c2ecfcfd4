"""The portal as gunicorn serves it, plus a bare "hello" route that exists only in this benchmark.

    gunicorn --pythonpath benchmarks hello_wsgi:app

``/bench-hello`` is the same application (configuration, middleware, session, headers) answering with no
work of its own, so that the wall page's throughput can be read as a ratio to it. The portal itself never
has this route.
"""

from portal import create_app, settle_heap

app = create_app({"RATELIMIT_ENABLED": False, "MAIL_SEND_INLINE": False})


@app.route("/bench-hello")
def bench_hello():
    return "hello"


bench_hello.access_rule = "public"
settle_heap()  # as wsgi.py does
