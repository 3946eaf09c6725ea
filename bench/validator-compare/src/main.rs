// The replaced validator, extracted from git history by run.sh.
mod old;
use serde_json::{json, Value};
use std::time::Instant;
fn main() {
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/zitadel-session-v2alpha.json")).unwrap()).unwrap();
    let bodies = [
        ("create", "#/components/schemas/v2alphaCreateSessionRequest", json!({"checks":{"user":{"loginName":"user1"},"password":{"password":"correct horse battery staple"}},"metadata":{"device":"bGFwdG9w"}})),
        ("search", "#/components/schemas/v2alphaListSessionsRequest", json!({"query":{"offset":"0","limit":100,"asc":true},"queries":[{"idsQuery":{"ids":["01m8w0jca87sfehhye8nhxw2p8","01m8w0jca87sfehhye8nhxw2p9"]}}]})),
    ];
    let new_schemas = sessiond::api::schema::DocumentSchemas::new(&spec);
    let old_v = old::Validator::new(spec["components"]["schemas"].clone());
    let n = 200_000;
    for (name, r, body) in bodies {
        let schema = json!({"$ref": r});
        let compiled = new_schemas.compile(&schema).unwrap();
        assert!(compiled.check(&body).is_ok());
        assert!(old::validate(&old_v, &body, &schema).is_ok());
        for round in 0..2 {
            let t = Instant::now();
            for _ in 0..n { std::hint::black_box(compiled.check(std::hint::black_box(&body)).is_ok()); }
            let new_ns = t.elapsed().as_nanos() as f64 / n as f64;
            let t = Instant::now();
            for _ in 0..n { std::hint::black_box(old::validate(&old_v, std::hint::black_box(&body), &schema).is_ok()); }
            let old_ns = t.elapsed().as_nanos() as f64 / n as f64;
            if round == 1 { println!("{name}: jsonschema {new_ns:.0} ns, hand-written {old_ns:.0} ns per body"); }
        }
    }
}
