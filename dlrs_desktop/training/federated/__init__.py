"""Federated `dlrs train` (issue 32): sites keep their images; only parameters and aggregates travel.

protocol.py   the messages (Request/Reply), the Federation and SiteHandler interfaces, the checks
              every reply passes before the coordinator sees it, and the in-process federation
transport.py  the same Federation over Flower's gRPC transport (TLS, site authentication)
site.py       what one hospital's process does with a request (its own cases only)
coordinator.py the server's plan: rounds of FedAvg, aggregated fits and metrics, checkpointed
aggregates.py the statistics that may cross the wire and how the server combines them
"""
