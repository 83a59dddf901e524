"""The local sandbox: the real system on one machine, on an embedded AWS emulator.

``emulator`` serves moto plus End User Messaging SMS and Connect on 127.0.0.1; ``pump``
delivers events to the deployed functions as AWS would; ``sandbox`` deploys the real template
and keeps state; ``client`` is what the CLI uses to talk to a running sandbox; ``demo`` plays
the narrated scenario.
"""
