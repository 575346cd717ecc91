//! Tests of `template.rs`.

use super::*;

const SAMPLE: &str = r#"
Parameters:
  Attempts: {Type: Number, Default: 8}
  Key: {Type: String, NoEcho: true}
Globals:
  Function:
    Environment:
      Variables:
        SHARED: yes-shared
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: !Ref Attempts
  Dlq:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: api}}
    Properties:
      Environment: {Variables: {URL: !Sub "https://${Api}.example"}}
      Events:
        Get: {Type: HttpApi, Properties: {Path: "/things/{id}", Method: get}}
        Q: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 10}}
"#;

#[test]
fn short_intrinsics_become_long_form() {
    let template = Template::parse(SAMPLE).unwrap();
    let queue = template
        .resources_of_type("AWS::SQS::Queue")
        .find(|(id, _)| *id == "Queue")
        .unwrap()
        .1;
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        serde_json::json!({"Fn::GetAtt": ["Dlq", "Arn"]})
    );
    assert_eq!(
        queue["RedrivePolicy"]["maxReceiveCount"],
        serde_json::json!({"Ref": "Attempts"})
    );
}

#[test]
fn functions_merge_globals_and_list_events() {
    let template = Template::parse(SAMPLE).unwrap();
    let functions = template.functions().unwrap();
    assert_eq!(functions.len(), 1);
    let function = &functions[0];
    assert_eq!(function.binary, "api");
    assert_eq!(function.environment["SHARED"], "yes-shared");
    assert_eq!(
        function.environment["URL"],
        serde_json::json!({"Fn::Sub": "https://${Api}.example"})
    );
    assert_eq!(function.events["Q"].properties["BatchSize"], 10);
}

#[test]
fn routes_and_parameters() {
    let template = Template::parse(SAMPLE).unwrap();
    assert_eq!(
        template.http_routes().unwrap(),
        vec![RouteDef {
            method: "GET".into(),
            path: "/things/{id}".into(),
            binary: "api".into(),
            authorizer: None,
        }]
    );
    let defaults = template.parameter_defaults();
    assert_eq!(defaults.get("Attempts").map(String::as_str), Some("8"));
    assert!(!defaults.contains_key("Key"));
}

#[test]
fn a_function_without_binary_is_an_error() {
    let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n";
    let error = Template::parse(text).unwrap().functions().unwrap_err();
    assert!(
        error.to_string().contains("BuildProperties.Binary"),
        "{error}"
    );
}

#[test]
fn the_project_template_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let template = Template::load(&path).unwrap();
    let binaries: Vec<String> = template
        .functions()
        .unwrap()
        .into_iter()
        .map(|f| f.binary)
        .collect();
    let timeout = |binary: &str| {
        template
            .functions()
            .unwrap()
            .into_iter()
            .find(|f| f.binary == binary)
            .unwrap()
            .timeout
    };
    assert_eq!(timeout("deliver"), std::time::Duration::from_secs(30));
    assert_eq!(
        timeout("resources"),
        std::time::Duration::from_secs(10),
        "Globals"
    );
    let routes = template.http_routes().unwrap();
    let authorizer = |path: &str| {
        routes
            .iter()
            .find(|r| r.path == path)
            .map(|r| r.authorizer.clone())
            .unwrap()
    };
    assert_eq!(authorizer("/api/v1/health"), None);
    assert_eq!(authorizer("/api/v1/openapi.json"), None);
    let users = authorizer("/api/v1/users").unwrap();
    assert_eq!(users.binary, "authorizer");
    assert_eq!(users.identity_headers, ["authorization"]);
    assert_eq!(users.ttl, std::time::Duration::from_secs(300));
    for expected in [
        "resources",
        "subscriptions",
        "fanout",
        "deliver",
        "authorizer",
    ] {
        assert!(
            binaries.iter().any(|b| b == expected),
            "{expected} missing from {binaries:?}"
        );
    }
}

#[test]
fn route_authorizers_follow_the_event_then_the_api_default() {
    let text = r#"
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Keys
        Authorizers:
          Keys:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization, X-Tenant], ReauthorizeEvery: 60}
          Old:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "1.0"
  Auth:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: auth}}
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: api}}
    Properties:
      Events:
        Open: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /open, Method: GET, Auth: {Authorizer: NONE}}}
        Closed: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /closed, Method: GET}}
        Implicit: {Type: HttpApi, Properties: {Path: /implicit, Method: GET}}
"#;
    let routes = Template::parse(text).unwrap().http_routes().unwrap();
    let authorizer = |path: &str| {
        routes
            .iter()
            .find(|r| r.path == path)
            .unwrap()
            .authorizer
            .clone()
    };
    assert_eq!(authorizer("/open"), None);
    assert_eq!(authorizer("/implicit"), None, "no API, no default");
    assert_eq!(
        authorizer("/closed"),
        Some(AuthorizerDef {
            binary: "auth".into(),
            identity_headers: vec!["authorization".into(), "x-tenant".into()],
            ttl: std::time::Duration::from_secs(60),
        })
    );
    let old = text.replace("DefaultAuthorizer: Keys", "DefaultAuthorizer: Old");
    let error = Template::parse(&old).unwrap().http_routes().unwrap_err();
    assert!(error.to_string().contains("payload format 2.0"), "{error}");
}
