#!/usr/bin/python3
"""A fake kubelet for vgpu-device-plugin's tests (no kubelet can be
installed here): Debian's python3-grpcio, with stubs generated at start from
the project's own .proto files, so a mistake in them shows here too.

  fake-kubelet.py serve DIR --log FILE [--refuse MESSAGE]
      What the kubelet's device manager does, as facts/kubernetes.md says:
      at start it deletes every socket in DIR, then serves Registration on
      DIR/kubelet.sock.  Register checks the version (v1beta1), the resource
      name (an extended resource: DOMAIN/NAME, not kubernetes.io) and that
      the endpoint is a socket in DIR; then, before it answers, dials the
      endpoint and calls GetDevicePluginOptions (10 s).  After answering it
      calls ListAndWatch and records every list.  A plugin that registers
      the same resource again replaces the old one (its stream is cancelled).
      --refuse MESSAGE: Register fails with MESSAGE after the options call.
      SIGHUP restarts it in place (server stopped, streams cancelled, sockets
      deleted, kubelet.sock made anew); SIGTERM stops it.
      FILE gets one JSON object a line, "t" the wall-clock time:
        {"event": "serving"}                         kubelet.sock is up
        {"event": "register", "resource", "endpoint", "options"}
        {"event": "refused", "resource", "message"}
        {"event": "list", "resource", "devices": [{"id", "health"}]}
        {"event": "stream-end", "resource", "why"}
        {"event": "restarting"} / {"event": "stopped"}

  fake-kubelet.py call SOCKET METHOD [JSON]
      One DevicePlugin call on SOCKET (ListAndWatch: its first list), the
      request given as protobuf JSON (field names as in the .proto); prints
      the response as JSON.  A gRPC error goes to stderr as "CODE: details"
      with exit status 1.
"""
import atexit
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

import grpc
from google.protobuf import json_format

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "..", "plugin", "kubelet")


def load_stubs():
    out = tempfile.mkdtemp(prefix="fake-kubelet-stubs.")
    atexit.register(shutil.rmtree, out, True)
    subprocess.run(
        ["protoc", "--python_out=" + out, "--grpc_python_out=" + out,
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
         "-I", PROTO_DIR, "deviceplugin.proto", "deviceplugin_service.proto"],
        check=True)
    sys.path.insert(0, out)
    import deviceplugin_pb2
    import deviceplugin_service_pb2_grpc
    return deviceplugin_pb2, deviceplugin_service_pb2_grpc


pb, svc = load_stubs()

SUPPORTED = ["v1beta1"]
# k8s.io/apimachinery: a qualified name's prefix is a DNS subdomain, its
# name part [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? of at most 63
DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DOMAIN = re.compile(r"^%s(\.%s)*$" % (DNS_LABEL, DNS_LABEL))
NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def extended_resource(name):
    domain, _, rest = name.partition("/")
    if not rest or "/" in rest or len(domain) > 253 or not DOMAIN.match(domain):
        return False
    if domain == "kubernetes.io" or domain.endswith(".kubernetes.io"):
        return False
    return len(rest) <= 63 and NAME.match(rest) is not None


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def __call__(self, event, **kw):
        kw = dict(t=time.time(), event=event, **kw)
        with self.lock:
            self.f.write(json.dumps(kw) + "\n")


class Endpoint:
    """A registered plugin: its channel and the ListAndWatch reader."""

    def __init__(self, kubelet, resource, path):
        self.kubelet, self.resource = kubelet, resource
        self.channel = grpc.insecure_channel("unix:" + path)
        self.stub = svc.DevicePluginStub(self.channel)
        self.stream = None
        self.closed = False

    def options(self):
        grpc.channel_ready_future(self.channel).result(timeout=10)
        return self.stub.GetDevicePluginOptions(pb.Empty(), timeout=10)

    def watch(self):
        log = self.kubelet.log
        why = "ended"
        try:
            self.stream = self.stub.ListAndWatch(pb.Empty())
            for resp in self.stream:
                log("list", resource=self.resource,
                    devices=[{"id": d.ID, "health": d.health} for d in resp.devices])
        except grpc.RpcError as e:
            why = "cancelled" if self.closed else "%s: %s" % (e.code().name, e.details())
        log("stream-end", resource=self.resource, why=why)

    def close(self):
        self.closed = True
        if self.stream is not None:
            self.stream.cancel()
        self.channel.close()


class Registration(svc.RegistrationServicer):
    def __init__(self, kubelet):
        self.kubelet = kubelet

    def Register(self, request, context):
        k = self.kubelet
        if request.version not in SUPPORTED:
            msg = "requested API version %r is not supported by kubelet. Supported versions are %r" % (
                request.version, SUPPORTED)
            return self.refuse(context, request, msg)
        if not extended_resource(request.resource_name):
            return self.refuse(context, request, "the ResourceName %r is invalid" % request.resource_name)
        path = os.path.join(k.dir, request.endpoint)
        if "/" in request.endpoint or not os.path.exists(path) or not stat.S_ISSOCK(os.stat(path).st_mode):
            return self.refuse(context, request, "no plugin socket %s" % path)
        ep = Endpoint(k, request.resource_name, path)
        try:
            ep.options()
        except Exception as e:  # as the kubelet: any failure to reach the plugin refuses it
            ep.close()
            return self.refuse(context, request, "failed to dial device plugin: %s" % e)
        if k.refuse:
            ep.close()
            return self.refuse(context, request, k.refuse)
        k.log("register", resource=request.resource_name, endpoint=request.endpoint,
              options={"pre_start_required": request.options.pre_start_required,
                       "get_preferred_allocation_available":
                           request.options.get_preferred_allocation_available})
        k.add(ep)
        return pb.Empty()

    def refuse(self, context, request, msg):
        self.kubelet.log("refused", resource=request.resource_name, message=msg)
        context.abort(grpc.StatusCode.UNKNOWN, msg)


class Kubelet:
    def __init__(self, directory, log, refuse):
        self.dir, self.log, self.refuse = directory, log, refuse
        self.server = None
        self.endpoints = {}
        self.lock = threading.Lock()

    def add(self, ep):
        with self.lock:
            old = self.endpoints.get(ep.resource)
            self.endpoints[ep.resource] = ep
        if old:
            old.close()
        threading.Thread(target=ep.watch, daemon=True).start()

    def delete_sockets(self):
        for name in os.listdir(self.dir):
            p = os.path.join(self.dir, name)
            try:
                if stat.S_ISSOCK(os.lstat(p).st_mode):
                    os.unlink(p)
            except FileNotFoundError:
                pass

    def start(self):
        self.delete_sockets()
        from concurrent import futures
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        svc.add_RegistrationServicer_to_server(Registration(self), self.server)
        self.server.add_insecure_port("unix:" + os.path.join(self.dir, "kubelet.sock"))
        self.server.start()
        self.log("serving")

    def stop(self):
        with self.lock:
            eps, self.endpoints = list(self.endpoints.values()), {}
        for ep in eps:
            ep.close()
        if self.server:
            self.server.stop(None).wait()
            self.server = None


def serve(args):
    directory, log_path, refuse = args[0], None, None
    rest = args[1:]
    while rest:
        if rest[0] == "--log":
            log_path, rest = rest[1], rest[2:]
        elif rest[0] == "--refuse":
            refuse, rest = rest[1], rest[2:]
        else:
            sys.exit("fake-kubelet: unknown argument %s" % rest[0])
    os.makedirs(directory, exist_ok=True)
    k = Kubelet(directory, Log(log_path or os.devnull), refuse)
    wake = threading.Event()
    pending = []

    def on_signal(signo, frame):
        pending.append(signo)
        wake.set()

    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    k.start()
    while True:
        wake.wait()
        wake.clear()
        while pending:
            signo = pending.pop(0)
            if signo == signal.SIGHUP:
                k.log("restarting")
                k.stop()
                k.start()
            else:
                k.stop()
                k.log("stopped")
                return


REQUESTS = {
    "GetDevicePluginOptions": pb.Empty,
    "ListAndWatch": pb.Empty,
    "GetPreferredAllocation": pb.PreferredAllocationRequest,
    "Allocate": pb.AllocateRequest,
    "PreStartContainer": pb.PreStartContainerRequest,
}


def call(args):
    sock, method = args[0], args[1]
    req = json_format.Parse(args[2] if len(args) > 2 else "{}", REQUESTS[method]())
    with grpc.insecure_channel("unix:" + sock) as ch:
        stub = svc.DevicePluginStub(ch)
        try:
            if method == "ListAndWatch":
                resp = next(iter(stub.ListAndWatch(req, timeout=10)))
            else:
                resp = getattr(stub, method)(req, timeout=10)
        except grpc.RpcError as e:
            print("%s: %s" % (e.code().name, e.details()), file=sys.stderr)
            sys.exit(1)
    print(json_format.MessageToJson(resp, preserving_proto_field_name=True, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "call" and sys.argv[3] in REQUESTS:
        call(sys.argv[2:])
    else:
        sys.exit(__doc__)
