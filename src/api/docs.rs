//! The contract documents at `/openapi/<name>.{yaml,json}` and Swagger UI at
//! `/swagger-ui/`, which offers every document in its selector.

use std::collections::HashMap;
use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Path;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, handler};
use poem_openapi::OpenApiService;

#[derive(Clone)]
pub struct Document {
    pub name: &'static str,
    pub yaml: String,
    pub json: String,
}

impl Document {
    pub fn new<T: poem_openapi::OpenApi, W: poem_openapi::Webhook>(
        name: &'static str,
        service: &OpenApiService<T, W>,
    ) -> Document {
        let rendered: serde_json::Value =
            serde_json::from_str(&service.spec()).expect("poem-openapi renders valid JSON");
        Document::from_value(name, rendered)
    }

    /// A document rendered some other way (the v2 and v2beta documents,
    /// derived from the protos), shaped like the others.
    pub fn from_value(name: &'static str, mut rendered: serde_json::Value) -> Document {
        super::document_shape::finish(&mut rendered);
        Document {
            name,
            yaml: serde_yaml::to_string(&rendered).expect("a JSON value renders as YAML"),
            json: serde_json::to_string_pretty(&rendered).expect("a JSON value renders"),
        }
    }
}

type Files = Arc<HashMap<String, (&'static str, String)>>;

pub fn documents_endpoint(documents: &[Document]) -> impl Endpoint + use<> {
    let mut files = HashMap::new();
    for doc in documents {
        files.insert(
            format!("{}.yaml", doc.name),
            ("application/yaml", doc.yaml.clone()),
        );
        files.insert(
            format!("{}.json", doc.name),
            ("application/json", doc.json.clone()),
        );
    }
    let files: Files = Arc::new(files);
    Route::new().at("/:file", document.data(files))
}

#[handler]
fn document(Path(file): Path<String>, files: poem::web::Data<&Files>) -> Response {
    match files.get(&file) {
        Some((content_type, body)) => Response::builder()
            .content_type(*content_type)
            .body(body.clone()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub fn swagger_ui_endpoint(
    documents: &[Document],
    persist_authorization: bool,
) -> impl Endpoint + use<> {
    let urls: Vec<utoipa_swagger_ui::Url<'static>> = documents
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let url: &'static str =
                Box::leak(format!("/openapi/{}.json", doc.name).into_boxed_str());
            utoipa_swagger_ui::Url::with_primary(doc.name, url, i == 0)
        })
        .collect();
    let config = Arc::new(
        utoipa_swagger_ui::Config::new(urls)
            .persist_authorization(persist_authorization)
            .try_it_out_enabled(true)
            .display_operation_id(true),
    );
    Route::new()
        .at("/", swagger_file.data(config.clone()))
        .at("/*tail", swagger_file.data(config))
}

#[handler]
fn swagger_file(
    req: &poem::Request,
    config: poem::web::Data<&Arc<utoipa_swagger_ui::Config<'static>>>,
) -> Response {
    if req.original_uri().path() == "/swagger-ui" {
        // Relative asset links need the trailing slash.
        return Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header("location", "/swagger-ui/")
            .finish();
    }
    // The `*tail` segment of the route, empty for the index page.
    let tail = req.raw_path_param("tail").unwrap_or_default();
    match utoipa_swagger_ui::serve(tail, config.0.clone()) {
        Ok(Some(file)) => {
            let mut response = Response::builder().content_type(file.content_type);
            if file.gzpipped {
                response = response.header("content-encoding", "gzip");
            }
            response.body(file.bytes.to_vec())
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "swagger ui asset failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
