from simulator.scheduler import NodeCapacity, PodRequest, parse_cpu, parse_memory, place, unschedulable_message


def node(name: str, **kw: object) -> NodeCapacity:
    fields: dict = {
        "labels": {"eks.amazonaws.com/nodegroup": "ng"},
        "max_pods": 29,
        "cpu_millis": 1930,
        "memory_mib": 7000,
    }
    fields.update(kw)
    return NodeCapacity(name=name, **fields)


def test_least_loaded_node_wins_and_is_booked() -> None:
    nodes = [node("a", pods=5), node("b", pods=3), node("c", pods=3)]
    chosen, message = place(nodes, PodRequest(100, 128))
    assert chosen is nodes[1] and message == "" and nodes[1].pods == 4 and nodes[1].cpu_requested == 100


def test_too_many_pods_message_matches_the_scheduler() -> None:
    nodes = [node(n, pods=29) for n in "abc"]
    chosen, message = place(nodes, PodRequest(100, 128))
    assert chosen is None
    assert message == (
        "0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    )


def test_mixed_reasons_are_counted_and_sorted() -> None:
    nodes = [
        node("a", unschedulable=True),
        node("b", pod_eni=9, pod_eni_used=9),
        node("c", labels={"eks.amazonaws.com/nodegroup": "other"}),
    ]
    _, message = place(
        nodes, PodRequest(100, 128, pod_eni=True, node_selector=(("eks.amazonaws.com/nodegroup", "ng"),))
    )
    assert message.startswith(
        "0/3 nodes are available: 1 Insufficient vpc.amazonaws.com/pod-eni, "
        "1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable."
    )
    assert message.endswith(
        "1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
    )


def test_quantities() -> None:
    assert parse_cpu("250m") == 250 and parse_cpu("2") == 2000 and parse_cpu("0.5") == 500
    assert parse_memory("128Mi") == 128 and parse_memory("2Gi") == 2048 and parse_memory("1048576") == 1
    assert unschedulable_message(0, []) == "no nodes available to schedule pods"
