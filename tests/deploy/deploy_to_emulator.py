"""Deploys template.yaml into an emulated AWS (moto's CloudFormation) and checks what it built.

moto does not apply the AWS::Serverless-2016-10-31 transform (a plain `sam deploy` into it
reports success while skipping every function and the API), so this does what CloudFormation
does first: SAM's own translator (samtranslator, the library behind `sam validate` and the
CloudFormation transform) expands the template, with managed policies looked up in moto's IAM;
then CloudFormation on moto creates the stack. The functions' code is a placeholder zip in the
emulated S3 (the binaries are built and run elsewhere in `make test`): what is checked here is
what the stack wires together.

What moto's CloudFormation does not create (the HTTP API and its stage, alarms, the Secrets
Manager secret, Outputs, table TTL and point-in-time recovery) is checked in the expanded template instead; each such check
says so. Run by `make test` with AWS_ENDPOINT_URL pointing at the local stack's moto server.
"""

import io
import json
import os
import sys
import time
import unittest
import zipfile

import boto3
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
STACK = f"rusthook-emulated-{os.getpid()}"
BUCKET = f"rusthook-artifacts-{os.getpid()}"


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def client(service):
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")


# How an OpenAPI body spells the method of an ANY route (the $default route is one).
ANY = "x-amazon-apigateway-any-method"


def is_method(key):
    """A path item's key that is an operation (not an x-amazon-apigateway-* extension)."""
    return key == ANY or not key.startswith("x-")


def placeholder_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n# placeholder: the real binaries are tested elsewhere\n")
    return buffer.getvalue()


def deploy():
    """Expands and deploys the template; returns (expanded template, stack resources by logical id)."""
    with open(os.path.join(ROOT, "template.yaml")) as f:
        template = yaml_parse(f.read())
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="code.zip", Body=placeholder_zip())
    functions = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    for logical_id in functions:
        template["Resources"][logical_id]["Properties"]["CodeUri"] = f"s3://{BUCKET}/code.zip"
    expanded = transform(template, {}, ManagedPolicyLoader(client("iam")))
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(expanded),
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.time() + 300
    while True:
        status = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if status.endswith("_COMPLETE") or status.endswith("_FAILED") or time.time() > deadline:
            break
        time.sleep(1)
    if status != "CREATE_COMPLETE":
        events = cloudformation.describe_stack_events(StackName=STACK)["StackEvents"]
        reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events if "FAILED" in e["ResourceStatus"]]
        raise AssertionError(f"stack {status}: {reasons}")
    resources = {
        r["LogicalResourceId"]: r
        for r in cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    }
    return expanded, resources


class EmulatedDeployment(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.expanded, cls.resources = deploy()

    def physical(self, logical_id):
        self.assertIn(logical_id, self.resources, f"{logical_id} was not created")
        return self.resources[logical_id]["PhysicalResourceId"]

    def function(self, logical_id):
        return client("lambda").get_function(FunctionName=self.physical(logical_id))["Configuration"]

    def test_every_supported_resource_was_created(self):
        skipped_by_moto = {
            "AWS::ApiGatewayV2::Api",
            "AWS::ApiGatewayV2::Stage",
            "AWS::CloudWatch::Alarm",
            "AWS::SecretsManager::Secret",
        }
        expected = {
            k
            for k, r in self.expanded["Resources"].items()
            # A resource under a condition (the alarm e-mail, with no AlarmEmail) is not created.
            if r["Type"] not in skipped_by_moto and "Condition" not in r
        }
        missing = sorted(expected - set(self.resources))
        self.assertEqual(missing, [], "resources of the expanded template that the stack lacks")
        self.assertGreaterEqual(len(self.resources), 40)

    def test_tables_have_their_keys_and_the_events_stream(self):
        dynamodb = client("dynamodb")
        events = dynamodb.describe_table(TableName=self.physical("EventsTable"))["Table"]
        self.assertEqual(events["StreamSpecification"], {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        # No index: each would add a write to every event (make bench prices the events).
        self.assertEqual(events.get("GlobalSecondaryIndexes", []), [])
        self.assertEqual(sorted(k["AttributeName"] for k in events["KeySchema"]), ["pk", "sk"])
        data = dynamodb.describe_table(TableName=self.physical("DataTable"))["Table"]
        self.assertEqual(sorted(k["AttributeName"] for k in data["KeySchema"]), ["pk", "sk"])
        # moto keeps neither TTL nor point-in-time recovery from CloudFormation: checked as expanded.
        for table in ("EventsTable", "DataTable"):
            properties = self.expanded["Resources"][table]["Properties"]
            self.assertEqual(properties["TimeToLiveSpecification"], {"AttributeName": "expires_at", "Enabled": True})
            self.assertTrue(properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"])

    def test_the_delivery_queue_redrives_to_its_dead_letter_queue_after_every_attempt(self):
        sqs = client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=self.physical("DeliveryQueue"), AttributeNames=["All"])["Attributes"]
        dead_letters = sqs.get_queue_attributes(
            QueueUrl=self.physical("DeliveryDeadLetterQueue"), AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        redrive = json.loads(attributes["RedrivePolicy"])
        self.assertEqual(redrive["deadLetterTargetArn"], dead_letters)
        self.assertEqual(int(redrive["maxReceiveCount"]), 8)
        self.assertEqual(attributes["VisibilityTimeout"], "180")

    def test_functions_get_the_names_of_what_the_stack_created(self):
        subscriptions = self.function("SubscriptionsFunction")
        env = subscriptions["Environment"]["Variables"]
        self.assertEqual(env["DATA_TABLE"], self.physical("DataTable"))
        self.assertEqual(env["DELIVERY_QUEUE_URL"], self.physical("DeliveryQueue"))
        self.assertEqual(subscriptions["Runtime"], "provided.al2023")
        self.assertEqual(subscriptions["Handler"], "bootstrap")
        deliver = self.function("DeliverFunction")["Environment"]["Variables"]
        self.assertEqual(deliver["DEAD_LETTER_QUEUE_URL"], self.physical("DeliveryDeadLetterQueue"))
        self.assertEqual(str(deliver["DELIVERY_ATTEMPTS"]), "8")

    def test_the_admin_key_is_generated_and_only_the_functions_that_check_it_may_read_it(self):
        # moto's CloudFormation does not create AWS::SecretsManager::Secret: checked as expanded
        # (devstack provision creates it in the emulator, where tests/tests/secrets.rs reads it).
        resources = self.expanded["Resources"]
        secret = resources["AdminApiKeySecret"]
        self.assertEqual(secret["Type"], "AWS::SecretsManager::Secret")
        self.assertEqual(secret["Properties"]["GenerateSecretString"], {"PasswordLength": 48, "ExcludePunctuation": True})
        self.assertNotIn("AdminApiKey", self.expanded.get("Parameters", {}), "no key to type")
        env = resources["SubscriptionsFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(env["ADMIN_API_KEY_SECRET"], {"Ref": "AdminApiKeySecret"})
        readers = []
        for logical_id in (
            "AuthorizerFunction",
            "ResourcesFunction",
            "SubscriptionsFunction",
            "FanoutFunction",
            "DeliverFunction",
        ):
            role = resources[f"{logical_id}Role"]
            text = json.dumps(role["Properties"].get("Policies", []))
            if "secretsmanager:GetSecretValue" in text and '"AdminApiKeySecret"' in text:
                readers.append(logical_id)
            # The role itself was created on moto.
            self.physical(f"{logical_id}Role")
        # The authorizer checks the key; subscriptions checks it on direct invocations.
        self.assertEqual(readers, ["AuthorizerFunction", "SubscriptionsFunction"])

    def test_event_sources_are_wired_with_their_settings(self):
        lambda_ = client("lambda")
        fanout = lambda_.list_event_source_mappings(FunctionName=self.physical("FanoutFunction"))["EventSourceMappings"]
        self.assertEqual(len(fanout), 2, "the events stream, and the batches fanout gave up on")
        sqs = client("sqs")
        failure_queue = sqs.get_queue_attributes(
            QueueUrl=self.physical("FanoutFailureQueue"), AttributeNames=["QueueArn", "RedrivePolicy", "VisibilityTimeout"]
        )["Attributes"]
        (stream,) = [m for m in fanout if m["EventSourceArn"] != failure_queue["QueueArn"]]
        (again,) = [m for m in fanout if m["EventSourceArn"] == failure_queue["QueueArn"]]
        self.assertEqual(again["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(again["BatchSize"], 10)
        dead_letters = sqs.get_queue_attributes(
            QueueUrl=self.physical("FanoutDeadLetterQueue"), AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        redrive = json.loads(failure_queue["RedrivePolicy"])
        self.assertEqual(redrive["deadLetterTargetArn"], dead_letters)
        self.assertGreaterEqual(int(redrive["maxReceiveCount"]) * int(failure_queue["VisibilityTimeout"]), 86400)
        events_stream = client("dynamodb").describe_table(TableName=self.physical("EventsTable"))["Table"]["LatestStreamArn"]
        self.assertEqual(stream["EventSourceArn"], events_stream)
        self.assertEqual(stream["BatchSize"], 100)
        self.assertTrue(stream["BisectBatchOnFunctionError"])
        self.assertEqual(stream["MaximumRetryAttempts"], 10)
        self.assertEqual(stream["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertIn('"INSERT"', stream["FilterCriteria"]["Filters"][0]["Pattern"])
        self.assertEqual(stream["DestinationConfig"]["OnFailure"]["Destination"], failure_queue["QueueArn"])
        deliver = lambda_.list_event_source_mappings(FunctionName=self.physical("DeliverFunction"))["EventSourceMappings"]
        self.assertEqual(len(deliver), 1)
        self.assertEqual(deliver[0]["BatchSize"], 10)
        self.assertEqual(deliver[0]["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(deliver[0]["ScalingConfig"], {"MaximumConcurrency": 20})

    def test_the_http_api_routes_every_path_as_expanded(self):
        # moto does not create AWS::ApiGatewayV2 resources from CloudFormation: checked as expanded.
        apis = {k: r for k, r in self.expanded["Resources"].items() if r["Type"] == "AWS::ApiGatewayV2::Api"}
        self.assertEqual(len(apis), 1)
        paths = next(iter(apis.values()))["Properties"]["Body"]["paths"]
        routes = sum(len([m for m in methods if is_method(m)]) for methods in paths.values())
        self.assertEqual(routes, 37, "35 operations, the portal's pages and the $default route")
        self.assertEqual(list(paths["$default"]), [ANY])
        self.assertTrue(paths["$default"][ANY]["isDefaultRoute"])
        self.assertIn("ResourcesFunction", json.dumps(paths["$default"][ANY]["x-amazon-apigateway-integration"]))
        stages = [r for r in self.expanded["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
        self.assertEqual([s["Properties"]["StageName"] for s in stages], ["$default"])
        # Each route may invoke its function, the API its authorizer, and EventBridge the sample
        # generator (created on moto). The resources function's $default route permits every
        # route of the API (SAM then writes no permission per route for that function): 1 for
        # resources, 28 for subscriptions' routes (the portal's pages one of them), the
        # authorizer's and the schedule's.
        permissions = [k for k, r in self.expanded["Resources"].items() if r["Type"] == "AWS::Lambda::Permission"]
        self.assertEqual(len(permissions), 31)
        default = self.expanded["Resources"]["ResourcesFunctionUnroutedPermission"]["Properties"]
        self.assertTrue(default["SourceArn"]["Fn::Sub"][0].endswith("/${__Stage__}/*"), default["SourceArn"])
        self.assertNotIn("ResourcesFunctionGetHealthPermission", permissions)
        for logical_id in permissions:
            self.assertIn(logical_id, self.resources)

    def test_every_route_but_four_needs_the_key_authorizer(self):
        # moto does not create AWS::ApiGatewayV2 resources: the authorizer is checked as expanded.
        api = next(r for r in self.expanded["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api")
        body = api["Properties"]["Body"]
        authorizer = body["components"]["securitySchemes"]["ApiKeyAuthorizer"]["x-amazon-apigateway-authorizer"]
        self.assertEqual(authorizer["type"], "request")
        self.assertEqual(authorizer["identitySource"], ["$request.header.Authorization"])
        self.assertEqual(authorizer["authorizerPayloadFormatVersion"], "2.0")
        self.assertTrue(authorizer["enableSimpleResponses"])
        self.assertEqual(authorizer["authorizerResultTtlInSeconds"], 300)
        self.assertIn("AuthorizerFunction", json.dumps(authorizer["authorizerUri"]))
        open_routes = set()
        for path, methods in body["paths"].items():
            for method, operation in methods.items():
                if not is_method(method):
                    continue
                if operation.get("security") == [{"NONE": []}]:
                    open_routes.add(f"{method.upper()} {path}")
                else:
                    self.assertEqual(operation.get("security"), [{"ApiKeyAuthorizer": []}], f"{method} {path}")
        # The $default route answers only 404 and 405 problems (what no other route matches); the
        # portal's pages check their own session cookie.
        self.assertEqual(
            open_routes,
            {
                "GET /api/v1/health",
                "GET /api/v1/openapi.json",
                f"{ANY.upper()} $default",
                f"{ANY.upper()} /portal/{{proxy+}}",
            },
        )
        permission = self.expanded["Resources"]["HttpApiApiKeyAuthorizerAuthorizerPermission"]["Properties"]
        self.assertEqual(permission["Principal"], "apigateway.amazonaws.com")
        self.assertEqual(permission["FunctionName"], {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]})

    def test_sam_deploy_guided_finds_every_route_authenticated(self):
        # The check behind `sam deploy --guided`'s "<Function> has no authentication. Is this
        # okay?" question, run on the template: no route may ask it.
        from samcli.commands.deploy.auth_utils import auth_per_resource
        from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

        stacks, _ = SamLocalStackProvider.get_stacks(os.path.join(ROOT, "template.yaml"))
        checked = auth_per_resource(stacks)
        self.assertEqual(len(checked), 37, "one entry per HttpApi route, $default included")
        self.assertEqual([name for name, authenticated in checked if not authenticated], [])

    def test_alarms_and_outputs_as_expanded(self):
        # moto's CloudFormation skips alarms and Outputs: checked as expanded.
        alarms = [r for r in self.expanded["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
        self.assertEqual(len(alarms), 3)
        for alarm in alarms:
            self.assertTrue(alarm["Properties"]["AlarmActions"])
        self.assertTrue({"ApiUrl", "AdminApiKeySecretArn", "DeliveryDeadLetterQueueUrl"} <= set(self.expanded["Outputs"]))


if __name__ == "__main__":
    if "AWS_ENDPOINT_URL" not in os.environ:
        sys.exit("set AWS_ENDPOINT_URL to a moto server (make test does)")
    unittest.main(verbosity=2)
