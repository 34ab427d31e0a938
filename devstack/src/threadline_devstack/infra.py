"""Real Apache Kafka and Elasticsearch on 127.0.0.1, without Docker.

`python -m threadline_devstack.infra up|down|status` (the Makefile's `make infra`):

- Kafka 4.x runs in KRaft mode, broker and controller in one JVM, from jars that Maven resolves
  from Maven Central (kafka/pom.xml beside this file) into ~/.cache/threadline/kafka-<v>/libs.
- Elasticsearch 8.x runs from its integ-test distribution on Maven Central, unpacked once into
  the cache. It refuses to run as root, so as root it runs as the system user `threadline-es`
  (created when missing), from a copy and data directories that user can read and write.
- Every topic in schemas/ is created with its partitions and configs (threadline_common.topics).
- .run/stack.json gets `kafka_bootstrap` and `elasticsearch_url`; `down` stops exactly the
  processes started, by pid.

Tests use the same functions (`KafkaNode`, `ElasticsearchNode`) on free ports in a temporary
directory.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from threadline_common.settings import KafkaSettings
from threadline_common.topics import TopicSetupError, ensure_topics
from threadline_devstack.processes import ManagedProcess

KAFKA_VERSION = os.environ.get("THREADLINE_KAFKA_VERSION", "4.1.1")
ES_VERSION = os.environ.get("THREADLINE_ES_VERSION", "8.19.7")
ES_USER = "threadline-es"
HERE = Path(__file__).resolve().parent


class InfraError(RuntimeError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("THREADLINE_CACHE", Path.home() / ".cache" / "threadline"))


def repo_root() -> Path:
    for parent in HERE.parents:
        if (parent / "schemas" / "topics").is_dir() and (parent / "Makefile").exists():
            return parent
    return Path.cwd()


def run_dir() -> Path:
    return Path(os.environ.get("THREADLINE_RUN_DIR", repo_root() / ".run"))


def java_home() -> str:
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        raise InfraError("Java 17+ is required (no `java` on PATH)")
    return str(Path(java).resolve().parent.parent)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_ports(service: str, ports: dict[str, int]) -> None:
    busy = [f"{what} {port}" for what, port in ports.items() if port_in_use(port)]
    if busy:
        raise InfraError(
            f"cannot start {service}: port {', '.join(busy)} on 127.0.0.1 is already in use by another "
            f"program; stop it or choose other ports (THREADLINE_KAFKA_PORT, THREADLINE_ES_PORT, ...)"
        )


def _wait(what: str, check: object, timeout: float, process: ManagedProcess) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise InfraError(f"{what} exited during start-up; last log lines:\n{process.log_tail()}")
        with contextlib.suppress(Exception):  # not up yet: connection refused, 503, ...
            if check():  # type: ignore[operator]
                return
        time.sleep(0.5)
    raise InfraError(f"{what} did not answer within {timeout:.0f}s; last log lines:\n{process.log_tail()}")


# --- Kafka --------------------------------------------------------------------------------------


def kafka_libs() -> Path:
    """Resolve the broker's jars with Maven once; later calls find them in the cache."""
    libs = cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        raise InfraError("Maven is required to fetch Kafka from Maven Central (no `mvn` on PATH)")
    libs.mkdir(parents=True, exist_ok=True)
    print(f"fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central (first run only)...", flush=True)
    subprocess.run(  # noqa: S603
        [  # noqa: S607 - Maven from PATH, as the README's prerequisites say
            "mvn",
            "-q",
            "-B",
            "-f",
            str(HERE / "kafka" / "pom.xml"),
            f"-Dkafka.version={KAFKA_VERSION}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
        ],
        check=True,
    )
    marker.touch()
    return libs


@dataclass
class KafkaNode:
    name: str
    base_dir: Path
    port: int = 9092
    controller_port: int = 9093
    heap: str = "512m"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        libs = cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"
        return ManagedProcess(
            name=self.name,
            argv=[
                str(Path(java_home()) / "bin" / "java"),
                f"-Xms{self.heap}",
                f"-Xmx{self.heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={HERE / 'kafka' / 'log4j2.properties'}",
                f"-Dkafka.logs.dir={self.base_dir / 'logs'}",
                "-cp",
                f"{libs}/*",
                "kafka.Kafka",
                str(self.base_dir / "server.properties"),
            ],
            run_dir=self.base_dir.parent,
        )

    def _properties(self) -> str:
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={self.base_dir / 'data'}",
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.retention.check.interval.ms=60000",
                "log.cleaner.dedupe.buffer.size=8388608",
                "",
            ]
        )

    def start(self, timeout: float = 90.0) -> KafkaNode:
        process = self.process
        if process.alive():
            wait_for_kafka(self.bootstrap, timeout)
            return self
        _check_ports("Kafka", {"broker port": self.port, "controller port": self.controller_port})
        kafka_libs()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "server.properties").write_text(self._properties())
        if not (self.base_dir / "data" / "meta.properties").exists():
            # Kafka's own id format; one starting with "-" would read as an option to the storage tool.
            cluster_id = "-"
            while cluster_id.startswith("-"):
                cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            libs = kafka_libs()
            subprocess.run(  # noqa: S603
                [
                    str(Path(java_home()) / "bin" / "java"),
                    f"-Dlog4j2.configurationFile={HERE / 'kafka' / 'log4j2.properties'}",
                    "-cp",
                    f"{libs}/*",
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self.base_dir / "server.properties"),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        process.start()
        _wait(f"Kafka on {self.bootstrap}", lambda: kafka_answers(self.bootstrap), timeout, process)
        return self

    def stop(self) -> None:
        self.process.stop(timeout=30)

    def kill(self) -> None:
        self.process.kill()


def kafka_answers(bootstrap: str, timeout: float = 2.0) -> bool:
    from confluent_kafka.admin import AdminClient

    # log_level 0: while the broker starts, refused connections are expected, not news.
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    metadata = admin.list_topics(timeout=timeout)
    return bool(metadata.brokers)


def wait_for_kafka(bootstrap: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if kafka_answers(bootstrap):
                return
        time.sleep(0.5)
    raise InfraError(f"Kafka on {bootstrap} does not answer")


# --- Elasticsearch ------------------------------------------------------------------------------


def _es_zip() -> Path:
    target = cache_dir() / "downloads" / f"elasticsearch-{ES_VERSION}.zip"
    if target.exists():
        return target
    if shutil.which("mvn") is None:
        raise InfraError("Maven is required to fetch Elasticsearch from Maven Central (no `mvn` on PATH)")
    print(f"fetching Elasticsearch {ES_VERSION} from Maven Central (first run only)...", flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [  # noqa: S607 - Maven from PATH, as the README's prerequisites say
            "mvn",
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip",
            f"-DoutputDirectory={target.parent}",
        ],
        check=True,
    )
    return target


def _as_root() -> bool:
    return os.geteuid() == 0


def es_user() -> pwd.struct_passwd | None:
    """The unprivileged user Elasticsearch runs as when we are root (created when missing)."""
    if not _as_root():
        return None
    try:
        return pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],  # noqa: S607
            check=True,
        )
        return pwd.getpwnam(ES_USER)


def _install_root_plugin(home: Path) -> None:
    """Compile and install es_root_plugin/: the integ-test distribution lacks the rest-root
    module, so without it `GET /` (what clients and Kibana ask first) answers 405."""
    target = home / "plugins" / "threadline-root"
    if (target / "threadline-root.jar").exists():
        return
    source = HERE / "es_root_plugin"
    build = home / ".plugin-build"
    shutil.rmtree(build, ignore_errors=True)
    jdk = Path(java_home()) / "bin"
    classes = build / "classes"
    subprocess.run(  # noqa: S603
        [str(jdk / "javac"), "--release", "17", "-proc:none", "-nowarn", "-cp", f"{home / 'lib'}/*", "-d", str(classes)]
        + [str(p) for p in source.rglob("*.java")],
        check=True,
    )
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(jdk / "jar"), "cf", str(target / "threadline-root.jar"), "-C", str(classes), "."], check=True)  # noqa: S603
    (target / "plugin-descriptor.properties").write_text(
        "description=GET / for the local Threadline stack\nversion=1.0\nname=threadline-root\n"
        f"classname=dev.threadline.esroot.RootInfoPlugin\njava.version=17\nelasticsearch.version={ES_VERSION}\n"
    )
    for path in [target, *target.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(build, ignore_errors=True)


def es_home() -> Path:
    """The unpacked distribution. As root it lives where the ES user can read it."""
    base = Path("/var/cache/threadline") if _as_root() else cache_dir()
    home = base / f"elasticsearch-{ES_VERSION}"
    if (home / ".complete").exists():
        _install_root_plugin(home)
        return home
    archive = _es_zip()
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f".elasticsearch-{ES_VERSION}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(staging)
    extracted = staging / f"elasticsearch-{ES_VERSION}"
    for script in (extracted / "bin").iterdir():
        script.chmod(0o755)
    shutil.rmtree(home, ignore_errors=True)
    extracted.rename(home)
    shutil.rmtree(staging, ignore_errors=True)
    _install_root_plugin(home)
    os.chmod(base, 0o755)  # noqa: S103 - the ES user must read the distribution
    (home / ".complete").touch()
    return home


@dataclass
class ElasticsearchNode:
    name: str
    base_dir: Path
    port: int = 9200
    transport_port: int = 9300
    heap: str = "512m"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_dir(self) -> Path:
        """Config, data and logs. As root: outside the repo, owned by the ES user."""
        if _as_root():
            return Path("/var/lib/threadline-es") / self.base_dir.resolve().as_posix().strip("/").replace("/", "_")
        return self.base_dir

    @property
    def process(self) -> ManagedProcess:
        state = self.state_dir
        env = {
            "ES_JAVA_HOME": java_home(),
            "ES_PATH_CONF": str(state / "config"),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
            "ES_TMPDIR": str(state / "tmp"),
        }
        argv = [str(es_home() / "bin" / "elasticsearch")]
        return ManagedProcess(
            name=self.name,
            argv=argv,
            run_dir=self.base_dir.parent,
            env=env,
            user=ES_USER if _as_root() else None,
        )

    def _configure(self) -> None:
        state = self.state_dir
        config = state / "config"
        for sub in ("config", "data", "logs", "tmp"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        source = es_home() / "config"
        for item in ("jvm.options", "log4j2.properties", "role_mapping.yml"):
            shutil.copy(source / item, config / item)
        (config / "jvm.options.d").mkdir(exist_ok=True)
        (config / "elasticsearch.yml").write_text(
            "\n".join(
                [
                    "cluster.name: threadline-local",
                    f"node.name: {self.name}",
                    "network.host: 127.0.0.1",
                    f"http.port: {self.port}",
                    f"transport.port: {self.transport_port}",
                    "discovery.type: single-node",
                    "xpack.security.enabled: false",
                    f"path.data: {state / 'data'}",
                    f"path.logs: {state / 'logs'}",
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "action.destructive_requires_name: false",
                    "",
                ]
            )
        )
        user = es_user()
        if user is not None:
            for root, dirs, files in os.walk(state):
                for entry in [
                    root,
                    *(os.path.join(root, d) for d in dirs),
                    *(os.path.join(root, f) for f in files),
                ]:
                    os.chown(entry, user.pw_uid, user.pw_gid)
            for parent in state.parents:
                if parent == Path("/"):
                    break
                os.chmod(parent, os.stat(parent).st_mode | 0o005)

    def start(self, timeout: float = 180.0) -> ElasticsearchNode:
        process = self.process
        if process.alive():
            _wait(f"Elasticsearch on {self.url}", lambda: es_answers(self.url), timeout, process)
            return self
        _check_ports("Elasticsearch", {"HTTP port": self.port, "transport port": self.transport_port})
        self._configure()
        process.start()
        _wait(f"Elasticsearch on {self.url}", lambda: es_answers(self.url), timeout, process)
        return self

    def stop(self) -> None:
        self.process.stop(timeout=30)

    def kill(self) -> None:
        self.process.kill()


def es_answers(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=3) as r:  # noqa: S310
        return json.load(r).get("status") in ("yellow", "green")


def es_version(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310
        return str(json.load(r)["version"]["number"])


# --- the `make infra` stack ----------------------------------------------------------------------


def _env_port(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        return int(value)
    except ValueError as exc:
        raise InfraError(f"{name} must be a port number, not {value!r}") from exc


def local_kafka() -> KafkaNode:
    return KafkaNode(
        name="kafka",
        base_dir=run_dir() / "kafka",
        port=_env_port("THREADLINE_KAFKA_PORT", 9092),
        controller_port=_env_port("THREADLINE_KAFKA_CONTROLLER_PORT", 9093),
    )


def local_elasticsearch() -> ElasticsearchNode:
    return ElasticsearchNode(
        name="elasticsearch",
        base_dir=run_dir() / "elasticsearch",
        port=_env_port("THREADLINE_ES_PORT", 9200),
        transport_port=_env_port("THREADLINE_ES_TRANSPORT_PORT", 9300),
    )


def update_stack_file(**values: object) -> Path:
    """Merge keys into .run/stack.json (atomically: readers never see half a file)."""
    path = run_dir() / "stack.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        current = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        current = {}
    current.update(values)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def up() -> dict[str, str]:
    from concurrent.futures import ThreadPoolExecutor

    kafka, es = local_kafka(), local_elasticsearch()
    started = time.monotonic()
    # Elasticsearch takes longest: start both at once.
    with ThreadPoolExecutor(2) as pool:
        kafka_future = pool.submit(kafka.start)
        es_future = pool.submit(es.start)
        kafka_future.result()
        es_future.result()
    topics = ensure_topics(KafkaSettings(bootstrap_servers=kafka.bootstrap, topic_prefix=""), wait_seconds=30).names
    path = update_stack_file(kafka_bootstrap=kafka.bootstrap, elasticsearch_url=es.url)
    print(f"Kafka {KAFKA_VERSION} on {kafka.bootstrap} ({len(topics)} topics from schemas/)")
    print(f"Elasticsearch {es_version(es.url)} on {es.url}")
    print(f"ready in {time.monotonic() - started:.1f}s; {path}")
    return {"kafka_bootstrap": kafka.bootstrap, "elasticsearch_url": es.url}


def down() -> None:
    for node in (local_kafka(), local_elasticsearch()):
        node.stop()
    path = run_dir() / "stack.json"
    if path.exists():
        current = json.loads(path.read_text())
        for key in ("kafka_bootstrap", "elasticsearch_url"):
            current.pop(key, None)
        path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    print("Kafka and Elasticsearch stopped")


def status() -> int:
    kafka, es = local_kafka(), local_elasticsearch()
    ok = True
    for name, node, where in (("kafka", kafka, kafka.bootstrap), ("elasticsearch", es, es.url)):
        alive = node.process.alive()
        ok &= alive
        print(f"{name:14} {'running' if alive else 'stopped'}  {where}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.infra", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up()
        elif args.command == "down":
            down()
        else:
            return status()
    except (InfraError, TopicSetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
