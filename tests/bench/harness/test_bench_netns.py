"""Members carry their role; names and addresses are what they always were (no root: loopback members)."""

from bench.harness import netns
from bench.harness.netns import Role


def test_members_have_roles_and_the_usual_names_and_addresses() -> None:
    net = netns.build("t0", servers=3, hosts=4, isolated=False)
    assert [(m.name, m.role, m.number) for m in net.members] == [
        ("d", Role.DEPLOY, 0), ("s1", Role.SERVER, 1), ("s2", Role.SERVER, 2), ("s3", Role.SERVER, 3),
        ("h1", Role.HOST, 1), ("h2", Role.HOST, 2), ("h3", Role.HOST, 3), ("h4", Role.HOST, 4)]
    assert net.deploy.addr == "127.77.0.2" and net.get("s2").addr == "127.77.0.4"
    assert [m.addr for m in net.having(Role.HOST)] == ["127.77.1.1", "127.77.1.2", "127.77.1.3", "127.77.1.4"]
    assert all(m.ns is None for m in net.members)
    assert netns.address_of(Role.HOST, 300, netns.BENCH_NET.network_address) == "198.18.2.44"
