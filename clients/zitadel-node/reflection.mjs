// What grpcurl does, in Node (grpcurl is not packaged by Debian 12): ask the
// server's gRPC reflection service which services it has, fetch the file
// descriptors of a service and everything they import (by file name, like
// grpcurl), build a registry from them, and return service descriptors that
// connect-es can call. Nothing here comes from @zitadel/proto.
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

// grpc/reflection/v1/reflection.proto (and v1alpha, the same messages), only
// the fields this needs, written out as a descriptor.
const STRING = 9, MESSAGE = 11, BYTES = 12, INT32 = 5;
const OPTIONAL = 1, REPEATED = 3;
function reflectionFile(pkg) {
  const f = (name, number, type, extra = {}) => ({ name, number, type, label: OPTIONAL, jsonName: name.replace(/_(.)/g, (_, c) => c.toUpperCase()), ...extra });
  const msg = (typeName) => ({ typeName: `.${pkg}.${typeName}` });
  return create(FileDescriptorProtoSchema, {
    name: `grpc/reflection/${pkg.split(".").pop()}/reflection.proto`,
    package: pkg,
    syntax: "proto3",
    messageType: [
      {
        name: "ServerReflectionRequest",
        field: [
          f("host", 1, STRING),
          f("file_by_filename", 3, STRING, { oneofIndex: 0 }),
          f("file_containing_symbol", 4, STRING, { oneofIndex: 0 }),
          f("list_services", 7, STRING, { oneofIndex: 0 }),
        ],
        oneofDecl: [{ name: "message_request" }],
      },
      {
        name: "ServerReflectionResponse",
        field: [
          f("valid_host", 1, STRING),
          f("original_request", 2, MESSAGE, msg("ServerReflectionRequest")),
          f("file_descriptor_response", 4, MESSAGE, { ...msg("FileDescriptorResponse"), oneofIndex: 0 }),
          f("list_services_response", 6, MESSAGE, { ...msg("ListServiceResponse"), oneofIndex: 0 }),
          f("error_response", 7, MESSAGE, { ...msg("ErrorResponse"), oneofIndex: 0 }),
        ],
        oneofDecl: [{ name: "message_response" }],
      },
      { name: "FileDescriptorResponse", field: [f("file_descriptor_proto", 1, BYTES, { label: REPEATED })] },
      { name: "ListServiceResponse", field: [f("service", 1, MESSAGE, { ...msg("ServiceResponse"), label: REPEATED })] },
      { name: "ServiceResponse", field: [f("name", 1, STRING)] },
      { name: "ErrorResponse", field: [f("error_code", 1, INT32), f("error_message", 2, STRING)] },
    ],
    service: [
      {
        name: "ServerReflection",
        method: [
          {
            name: "ServerReflectionInfo",
            inputType: `.${pkg}.ServerReflectionRequest`,
            outputType: `.${pkg}.ServerReflectionResponse`,
            clientStreaming: true,
            serverStreaming: true,
          },
        ],
      },
    ],
  });
}

// One request on its own stream, one response back (grpcurl keeps one stream
// open; a request per stream is equally valid for the protocol).
async function ask(client, request) {
  async function* one() {
    yield request;
  }
  const out = [];
  for await (const res of client.serverReflectionInfo(one())) out.push(res);
  if (out.length !== 1) throw new Error(`reflection: ${out.length} responses to one request`);
  const r = out[0].messageResponse;
  if (r.case === "errorResponse") {
    throw new Error(`reflection error ${r.value.errorCode}: ${r.value.errorMessage}`);
  }
  return r;
}

export async function reflect(baseUrl, { version = "v1", log = () => {} } = {}) {
  const pkg = `grpc.reflection.${version}`;
  const reg = createFileRegistry(reflectionFile(pkg), () => undefined);
  const svc = reg.getService(`${pkg}.ServerReflection`);
  const client = createClient(svc, createGrpcTransport({ baseUrl }));

  const listed = await ask(client, { messageRequest: { case: "listServices", value: "" } });
  if (listed.case !== "listServicesResponse") throw new Error(`list_services answered with ${listed.case}`);
  const services = listed.value.service.map((s) => s.name);
  log(`reflection ${version}: ${services.join(", ")}`);

  const files = new Map();
  const take = (r) => {
    if (r.case !== "fileDescriptorResponse") throw new Error(`file request answered with ${r.case}`);
    for (const bytes of r.value.fileDescriptorProto) {
      const fd = fromBinary(FileDescriptorProtoSchema, bytes);
      files.set(fd.name, fd);
    }
  };
  async function describe(symbol) {
    take(await ask(client, { messageRequest: { case: "fileContainingSymbol", value: symbol } }));
    // Fetch every import the server did not send along, by file name.
    for (let again = true; again; ) {
      again = false;
      for (const fd of [...files.values()]) {
        for (const dep of fd.dependency) {
          if (files.has(dep)) continue;
          take(await ask(client, { messageRequest: { case: "fileByFilename", value: dep } }));
          if (!files.has(dep)) throw new Error(`asked for ${dep}, got ${[...files.keys()].join(", ")}`);
          again = true;
        }
      }
    }
  }
  return {
    services,
    async service(name) {
      await describe(name);
      const file = [...files.values()].find((fd) => fd.service.some((s) => `${fd.package}.${s.name}` === name));
      if (!file) throw new Error(`no file declares ${name}; got ${[...files.keys()].join(", ")}`);
      // A FileDescriptorSet in dependency order, as protoc writes one.
      // (createFileRegistry(file, resolver) of @bufbuild/protobuf 2.17.0 can
      // add a file before an import it shares with a sibling, e.g.
      // challenge.proto before google/protobuf/struct.proto.)
      const ordered = [];
      const visit = (fd) => {
        if (ordered.includes(fd)) return;
        for (const dep of fd.dependency) visit(files.get(dep));
        ordered.push(fd);
      };
      visit(file);
      const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
      const desc = registry.getService(name);
      if (!desc) throw new Error(`${name} is not in the registry built from reflection`);
      return desc;
    },
  };
}
