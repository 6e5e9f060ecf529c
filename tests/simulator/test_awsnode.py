from simulator.awsnode import MANIFEST_ENV, IpamdMetrics, parse_env, render_metrics


def test_manifest_defaults_parse_clean() -> None:
    config = parse_env({**MANIFEST_ENV, "CLUSTER_NAME": "demo"})
    assert config.startup_error is None
    assert (config.warm_eni_target, config.warm_prefix_target, config.prefix_delegation) == (1, 1, False)
    assert config.cluster_name == "demo" and config.subnet_discovery and not config.custom_networking


def test_go_style_booleans_and_fallbacks() -> None:
    config = parse_env({"ENABLE_IPv4": "True", "ENABLE_POD_ENI": "1", "WARM_ENI_TARGET": "-3", "WARM_IP_TARGET": "x"})
    assert config.pod_eni and config.warm_eni_target == 1 and config.warm_ip_target == 0
    assert parse_env({"ENABLE_IPv4": "true", "ENABLE_POD_ENI": "yes"}).pod_eni is False
    tags = parse_env({"ENABLE_IPv4": "true", "ADDITIONAL_ENI_TAGS": '{"team": "a", "k8s.amazonaws.com/y": "z"}'})
    assert tags.additional_eni_tags == {"team": "a"}


def test_metrics_text_is_prometheus_exposition() -> None:
    metrics = IpamdMetrics(eni_max=3, ip_max=27, eni_allocated=2, total_ip_addresses=18, assigned_ip_addresses=5)
    metrics.count_api_error("CreateNetworkInterface", "InsufficientFreeAddressesInSubnet")
    metrics.count_ipamd_error("increaseIPPoolAllocENI")
    metrics.action_inprogress["increaseDatastorePool"] = 1
    text = render_metrics(metrics)
    lines = text.splitlines()
    assert "# TYPE awscni_total_ip_addresses gauge" in lines and "awscni_total_ip_addresses 18" in lines
    assert (
        'awscni_aws_api_error_count{api="CreateNetworkInterface",error="InsufficientFreeAddressesInSubnet"} 1' in lines
    )
    assert 'awscni_ipamd_error_count{fn="increaseIPPoolAllocENI"} 1' in lines
    assert 'awscni_ipamd_action_inprogress{fn="increaseDatastorePool"} 1' in lines
    assert "awscni_no_available_ip_addresses 0" in lines and text.endswith("\n")
