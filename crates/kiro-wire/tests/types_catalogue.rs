//! `ListAvailableModels` (spec §3.7) and `ListAvailableProfiles` (§3.8).

mod types_common;

use kiro_wire::types::*;
use serde_json::json;
use types_common::{parse, parse_lenient};

/// Spec §3.7, verbatim.
const SPEC_3_7: &str = r#"{"defaultModel": {"modelId": "auto"},
 "models": [{"modelId": "claude-opus-4.7", "modelName": "claude-opus-4.7",
   "description": "Experimental preview of Claude Opus 4.7 model with 1M context window",
   "rateMultiplier": 2.2, "rateUnit": "Credit", "supportedInputTypes": ["TEXT", "IMAGE"],
   "tokenLimits": {"maxInputTokens": 1000000, "maxOutputTokens": 64000},
   "promptCaching": {"supportsPromptCaching": true, "maximumCacheCheckpointsPerRequest": 4, "minimumTokensPerCacheCheckpoint": 4096},
   "additionalModelRequestFieldsSchema": {"type": "object", "additionalProperties": false, "properties": {
     "thinking": {"type": "object", "required": ["type"], "properties": {
       "type": {"type": "string", "enum": ["adaptive", "disabled"]}, "display": {"type": "string", "enum": ["summarized", "omitted"]}}},
     "output_config": {"type": "object", "properties": {"effort": {"type": "string", "enum": ["low", "medium", "high", "xhigh", "max"]}}}}}}],
 "nextToken": null}"#;

#[test]
fn models_spec_example() {
    let list: ListAvailableModelsResponse = parse_lenient(SPEC_3_7);
    assert_eq!(list.default_model_id(), Some("auto"));
    assert!(list.next_token.is_none());
    let m = list.find("Claude-Opus-4.7").unwrap();
    assert_eq!(m.model_name.as_deref(), Some("claude-opus-4.7"));
    assert_eq!(m.rate_multiplier, Some(2.2));
    assert_eq!(m.rate_unit.as_deref(), Some("Credit"));
    assert!(m.supports_images());
    assert_eq!(m.max_input_tokens(), Some(1_000_000));
    assert_eq!(m.max_output_tokens(), Some(64_000));
    let caching = m.prompt_caching.as_ref().unwrap();
    assert_eq!(caching.supports_prompt_caching, Some(true));
    assert_eq!(caching.maximum_cache_checkpoints_per_request, Some(4));
    assert_eq!(caching.minimum_tokens_per_cache_checkpoint, Some(4096));
    let schema = m.additional_model_request_fields_schema.as_ref().unwrap();
    assert_eq!(schema["additionalProperties"], json!(false));
    assert_eq!(
        schema["properties"]["output_config"]["properties"]["effort"]["enum"][3],
        "xhigh"
    );
    assert!(list.find("gpt-5.6").is_none());
}

#[test]
fn models_lenient_numbers_and_gaps() {
    let list: ListAvailableModelsResponse = parse(
        r#"{"models": [{"modelId": "claude-sonnet-4.5", "rateMultiplier": "1.3",
              "tokenLimits": {"maxInputTokens": 2.0E5, "maxOutputTokens": null}, "supportedInputTypes": null},
            {"modelName": "no id"}], "nextToken": "page2"}"#,
    );
    assert_eq!(list.default_model_id(), None);
    assert_eq!(list.next_token.as_deref(), Some("page2"));
    let m = &list.models[0];
    assert_eq!(m.rate_multiplier, Some(1.3));
    assert_eq!(m.max_input_tokens(), Some(200_000));
    assert_eq!(m.max_output_tokens(), None);
    assert!(!m.supports_images());
    assert_eq!(list.models[1].model_id, "");
    assert!(
        parse::<ListAvailableModelsResponse>(r#"{"models": null}"#)
            .models
            .is_empty()
    );
}

#[test]
fn profiles_request_and_spec_response() {
    let req = ListAvailableProfilesRequest {
        max_results: Some(10),
        next_token: None,
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"maxResults": 10})
    );
    assert_eq!(
        serde_json::to_value(ListAvailableProfilesRequest::default()).unwrap(),
        json!({})
    );

    let resp: ListAvailableProfilesResponse = parse_lenient(
        r#"{"profiles": [{"arn": "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF1234",
  "profileName": "QDefaultProfile"}], "nextToken": null}"#,
    );
    assert_eq!(
        resp.profiles,
        vec![Profile {
            arn: "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF1234".into(),
            profile_name: Some("QDefaultProfile".into()),
        }]
    );
    assert!(
        parse::<ListAvailableProfilesResponse>("{}")
            .profiles
            .is_empty()
    );
}

#[test]
fn profile_arn_alias() {
    let alias: Profile = parse_lenient(
        r#"{"profileArn": "arn:aws:codewhisperer:eu-central-1:123456789012:profile/EU1"}"#,
    );
    assert_eq!(
        alias.arn,
        "arn:aws:codewhisperer:eu-central-1:123456789012:profile/EU1"
    );
    assert_eq!(
        serde_json::to_value(&alias).unwrap(),
        json!({"arn": "arn:aws:codewhisperer:eu-central-1:123456789012:profile/EU1"})
    );
    // Both keys: `arn` wins, and it is not a duplicate-field error.
    let both: Profile = parse(r#"{"arn": "arn:A", "profileArn": "arn:B"}"#);
    assert_eq!(both.arn, "arn:A");
    let neither: Profile = parse(r#"{"profileName": "x"}"#);
    assert_eq!(neither.arn, "");
}

#[test]
fn profile_preference() {
    let p = |arn: &str| Profile {
        arn: arn.into(),
        profile_name: None,
    };
    let us = p("arn:aws:codewhisperer:us-east-1:123456789012:profile/US");
    let eu = p("arn:aws:codewhisperer:eu-central-1:123456789012:profile/EU");
    let junk = p("not-an-arn");
    let empty = p("");

    let list = [us.clone(), eu.clone()];
    assert_eq!(pick_profile(&list, "eu-central-1"), Some(&eu));
    assert_eq!(pick_profile(&list, "us-east-1"), Some(&us));
    // No region match: the first.
    assert_eq!(pick_profile(&list, "ap-south-1"), Some(&us));
    let list = [empty.clone(), junk.clone(), eu.clone()];
    assert_eq!(pick_profile(&list, "eu-central-1"), Some(&eu));
    // An unparseable ARN can still be the fallback; an empty one cannot.
    assert_eq!(pick_profile(&list, "us-east-1"), Some(&junk));
    assert_eq!(pick_profile(&[empty], "us-east-1"), None);
    assert_eq!(pick_profile(&[], "us-east-1"), None);
}

#[test]
fn profile_arn_region() {
    assert_eq!(
        ProfileArn::region_of("arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"),
        Ok("us-east-1".to_owned())
    );
    let arn: ProfileArn = "arn:aws:codewhisperer:eu-central-1:638616132270:profile/AAAACCCCXXXX"
        .parse()
        .unwrap();
    assert_eq!(arn.region, "eu-central-1");
    assert_eq!(arn.account, "638616132270");
    assert!(matches!(
        ProfileArn::parse("arn:aws:codewhisperer:us-east-1:12345:profile/X"),
        Err(ProfileArnError::Account(_))
    ));
}
