"""The table of localaws.replacements: every attribute the local AWS replaces, its kind, its new value, and what
of the target it relies on. A declaration table, one concern, read top to bottom."""

from __future__ import annotations

import importlib
import inspect
import re

from localaws.replacements import Kind, Replacement, parameters

GAP, SPEEDUP = Kind.GAP, Kind.SPEEDUP
AUTHORIZE = "moto.core.authorization:ActionAuthenticatorMixin._authenticate_and_authorize_action"
AUTHORIZE_FITS = parameters("self", "iam_request_cls", "resource")
AUTHORIZE_RELIES_ON = "moto calling it before every action, with (self, iam_request_cls, resource)"

REGISTRY: tuple[Replacement, ...] = (
    # --- Lambda: function code runs in this process (localaws.lambda_runtime) ---------------------------------
    Replacement(
        "lambda-in-process",
        GAP,
        ("moto.awslambda.models:LambdaFunction._invoke_lambda",),
        "localaws.lambda_runtime:_invoke_in_process",
        "LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs), the one call every invoke makes",
        parameters("self", "event"),
    ),
    Replacement(
        "lambda-invoke-across-accounts",
        GAP,
        ("moto.awslambda.models:LambdaBackend.invoke",),
        "localaws.lambda_runtime:_invoke_across_accounts",
        "LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)",
        parameters("self", "function_name", "qualifier", "body", "headers", "response_headers"),
    ),
    Replacement(
        "lambda-environment-per-thread",
        GAP,
        ("os:environ",),
        "localaws.per_thread:ThreadEnviron",
        "os.environ being a mapping every library reads through",
        made=True,
    ),
    Replacement(
        "lambda-stdout-per-thread",
        GAP,
        ("sys:stdout",),
        "localaws.per_thread:thread_stdout_over",
        "print() and the logging module writing to sys.stdout as it is when they write",
        made=True,
    ),
    Replacement(
        "workflow-fast-polls",
        SPEEDUP,
        ("expel_onboarding.workflow:MAX_POLL_SECONDS",),
        "localaws.lambda_runtime:LOCAL_MAX_POLL_SECONDS",
        "the bridge's polls reading their longest interval from workflow.MAX_POLL_SECONDS",
    ),
    # --- CloudFormation (localaws.cloudformation, cloudformation_models, custom_resources, stack_updates) ------
    Replacement(
        "cloudformation-resource-models",
        GAP,
        ("moto.cloudformation.parsing:resource_class_from_type",),
        "localaws.cloudformation_models:resource_class_from_type",
        "moto looking up each resource type's model through parsing.resource_class_from_type(type)",
        parameters("resource_type"),
    ),
    Replacement(
        "cloudformation-no-value",
        GAP,
        ("moto.cloudformation.parsing:clean_json",),
        "localaws.cloudformation_models:clean_json",
        "moto resolving intrinsics through parsing.clean_json(resource_json, resources_map)",
        parameters("resource_json", "resources_map"),
    ),
    Replacement(
        "cloudformation-custom-resources",
        GAP,
        ("moto.cloudformation.custom_model:CustomModel.create_from_cloudformation_json",),
        "localaws.custom_resources:CustomResources.create",
        "moto creating a Custom:: resource through CustomModel.create_from_cloudformation_json",
    ),
    Replacement(
        "crhelper-answers-in-process",
        GAP,
        ("crhelper.utils:HTTPSConnection",),
        "localaws.custom_resources:ResponseSink",
        "crhelper answering through utils.HTTPSConnection(host, context=...).request(...) and getresponse()",
    ),
    Replacement(
        "cloudformation-state-machines",
        GAP,
        ("moto.stepfunctions.models:StateMachine.create_from_cloudformation_json",),
        "localaws.cloudformation_models:state_machine_from_cloudformation",
        "moto creating AWS::StepFunctions::StateMachine through StateMachine.create_from_cloudformation_json",
    ),
    Replacement(
        "cloudformation-state-machines-deleted",
        GAP,
        ("moto.stepfunctions.models:StateMachine.delete_from_cloudformation_json",),
        "localaws.cloudformation_models:state_machine_deleted",
        "moto deleting a stack's AWS::StepFunctions::StateMachine through "
        "StateMachine.delete_from_cloudformation_json(resource_name=its ARN, ...)",
    ),
    Replacement(
        "cloudformation-custom-resources-deleted-first",
        GAP,
        ("moto.cloudformation.parsing:ResourceMap.delete",),
        "localaws.cloudformation:deleting_custom_resources_first",
        "ResourceMap.delete(self) deleting every resource of a stack",
        parameters("self"),
        made=True,
    ),
    Replacement(
        "cloudformation-stack-updates",
        GAP,
        ("moto.cloudformation.parsing:ResourceMap.update",),
        "localaws.stack_updates:update",
        "ResourceMap.update(self, template, parameters) applying an UpdateStack",
        parameters("self", "template", "parameters"),
    ),
    Replacement(
        "cloudformation-create-rollback",
        GAP,
        ("moto.cloudformation.models:CloudFormationBackend.create_stack",),
        "localaws.cloudformation:_create_stack",
        "CloudFormationBackend.create_stack(self, name, template, parameters, ...) creating the stack",
        lambda original: list(inspect.signature(original).parameters)[:4] == ["self", "name", "template", "parameters"],
    ),
    Replacement(
        "cloudformation-update-rollback",
        GAP,
        ("moto.cloudformation.models:CloudFormationBackend.update_stack",),
        "localaws.cloudformation:_update_stack",
        "CloudFormationBackend.update_stack(self, name, template, role_arn, parameters, tags), and its "
        "_resolve_update_parameters",
        lambda original: (
            parameters("self", "name", "template", "role_arn", "parameters", "tags")(original)
            and callable(
                getattr(
                    importlib.import_module("moto.cloudformation.models").CloudFormationBackend,
                    "_resolve_update_parameters",
                    None,
                )
            )
        ),
    ),
    # --- What AWS refuses and moto does not (each wraps moto's authorization hook) ----------------------------
    Replacement(
        "service-control-policies",
        GAP,
        (AUTHORIZE,),
        "localaws.controls:authorizing",
        AUTHORIZE_RELIES_ON,
        AUTHORIZE_FITS,
        made=True,
    ),
    Replacement(
        "topic-and-queue-policies",
        GAP,
        (AUTHORIZE,),
        "localaws.topic_policies:authorizing",
        AUTHORIZE_RELIES_ON,
        AUTHORIZE_FITS,
        made=True,
    ),
    Replacement(
        "role-trust",
        GAP,
        (AUTHORIZE,),
        "localaws.trust_policies:authorizing",
        AUTHORIZE_RELIES_ON,
        AUTHORIZE_FITS,
        made=True,
    ),
    # --- Other services ---------------------------------------------------------------------------------------
    Replacement(
        "s3-full-event-shape",
        GAP,
        ("moto.s3.notifications:_get_s3_event",),
        "localaws.s3_events:_full_shape",
        "S3's notifications building each event record through notifications._get_s3_event",
    ),
    Replacement(
        "s3-local-clock",
        GAP,
        ("moto.s3.models:utcnow",),
        "localaws.clock:_moto_now",
        "moto's S3 stamping objects through its models module's utcnow()",
        parameters(),
    ),
    Replacement(
        "cloudtrail-topic-by-arn",
        GAP,
        ("moto.cloudtrail.models:Trail.topic_arn",),
        "localaws.service_gaps:TRAIL_TOPIC_ARN",
        "Trail.topic_arn, the property DescribeTrails and CreateTrail's topic check read, and the trail keeping "
        "SnsTopicName as sns_topic_name",
        lambda original: (
            isinstance(original, property)
            and "sns_topic_name"
            in inspect.signature(importlib.import_module("moto.cloudtrail.models").Trail).parameters
        ),
    ),
    Replacement(
        "sns-publish-metrics",
        GAP,
        ("moto.sns.models:Topic.publish",),
        "localaws.service_metrics:_publish",
        "Topic.publish(self, message, ...) publishing every message",
    ),
    Replacement(
        "iam-policy-simulator",
        GAP,
        ("moto.iam.responses:IamResponse.simulate_principal_policy",),
        "localaws.policy_simulator:simulate_principal_policy",
        "IamResponse dispatching an action to the method of its name, returning ActionResult",
        create=True,
    ),
    Replacement(
        "organizations-accounts-listed-by-the-management-account",
        GAP,
        ("moto.organizations.models:OrganizationsBackend.list_accounts",),
        "localaws.service_gaps:listing_only_in_the_management_account",
        "OrganizationsBackend.list_accounts(self) answering ListAccounts, self.account_id the caller's account",
        made=True,
    ),
    Replacement(
        "organizations-seeded-account-ids",
        GAP,
        ("moto.organizations.utils:make_random_account_id",),
        "localaws.service_gaps:seeded_accounts_first",
        "CreateAccount taking the new account's id from utils.make_random_account_id()",
        parameters(),
        made=True,
    ),
    Replacement(
        "step-functions-retries-without-waits",
        GAP,
        ("moto.stepfunctions.parser.asl.component.common.retry.retrier_decl:time",),
        "localaws.clock:NO_WAITS",
        "the interpreter's Retry sleeping its intervals through the time module its retrier_decl imports",
        lambda original: hasattr(original, "sleep"),
    ),
    # --- Speedups (localaws.speedups, localaws.step_functions_speedups) -------------------------------------
    Replacement(
        "crhelper-no-ca-bundle",
        SPEEDUP,
        ("crhelper.utils:ssl",),
        "localaws.custom_resources:CRHELPER_SSL",
        "crhelper reading only Purpose, CERT_NONE and create_default_context of ssl",
        lambda original: (
            set(re.findall(r"\bssl\.(\w+)", inspect.getsource(importlib.import_module("crhelper.utils"))))
            <= {"Purpose", "CERT_NONE", "create_default_context"}
        ),
    ),
    Replacement(
        "kms-shared-private-key",
        SPEEDUP,
        ("moto.kms.models:generate_private_key",),
        "localaws.speedups:_private_key",
        "generate_private_key(key_spec)",
        parameters("key_spec"),
    ),
    Replacement(
        "botocore-models-kept",
        SPEEDUP,
        ("botocore.loaders:Loader.load_service_model",),
        "localaws.speedups:KEPT_SERVICE_MODELS",
        "Loader.load_service_model(self, service_name, type_name, api_version=None), pure for a search path",
    ),
    Replacement(
        "botocore-data-kept",
        SPEEDUP,
        ("botocore.loaders:Loader.load_data_with_path",),
        "localaws.speedups:KEPT_DATA",
        "Loader.load_data_with_path(self, name), pure for a search path",
    ),
    Replacement(
        "botocore-json-files-kept",
        SPEEDUP,
        ("botocore.loaders:JSONFileLoader.load_file",),
        "localaws.speedups:kept_json_files",
        "JSONFileLoader.load_file(self, file_path), pure for a path while the process runs",
        parameters("self", "file_path"),
        made=True,
        # Only in the process the commands are forked from (tests/support/forked_commands.py), where no moto
        # runs: botocore customizes some models in place once loaded (S3's paths), and moto 5.2.6 routes
        # requests from botocore's models, so a parsed file shared with moto's own loader misroutes S3.
        everywhere=False,
    ),
    Replacement(
        "cloudformation-json-first",
        SPEEDUP,
        ("moto.cloudformation.models:Stack.parse_template",),
        "localaws.speedups:PARSE_TEMPLATE",
        "Stack.parse_template(template), a static method",
    ),
    Replacement(
        "botocore-event-aliases-kept",
        SPEEDUP,
        ("botocore.hooks:EventAliaser._alias_event_name",),
        "localaws.speedups:_alias_event_name",
        "EventAliaser._alias_event_name(self, event_name)",
        parameters("self", "event_name"),
    ),
    Replacement(
        "moto-callback-responses-kept",
        SPEEDUP,
        ("moto.core.models:CallbackResponse",),
        "localaws.speedups:_callback_response",
        "moto building its responses mocks with CallbackResponse(method, url, callback, ...)",
    ),
    Replacement(
        "moto-dispatch-by-class",
        SPEEDUP,
        ("moto.core.responses:method_names_from_class",),
        "localaws.speedups:_Functions",
        "moto asking `action in method_names_from_class(cls)`",
    ),
    Replacement(
        "moto-modules-listed-once",
        SPEEDUP,
        ("moto.backends:list_of_moto_modules",),
        "localaws.speedups:_list_of_moto_modules",
        "backends.list_of_moto_modules()",
        parameters(),
    ),
    Replacement(
        "moto-server-polls-often",
        SPEEDUP,
        ("werkzeug.serving:BaseWSGIServer.serve_forever",),
        "localaws.speedups:_serve_forever",
        "serve_forever(self, poll_interval)",
        parameters("self", "poll_interval"),
    ),
    Replacement(
        "moto-url-tables-kept",
        SPEEDUP,
        ("moto.core.base_backend:BaseBackend.urls",),
        "localaws.speedups:URLS",
        "BaseBackend.urls, a property",
        lambda original: isinstance(original, property),
    ),
    Replacement(
        "step-functions-parse-cached",
        SPEEDUP,
        ("moto.stepfunctions.parser.asl.parse.asl_parser:AmazonStateLanguageParser.parse",),
        "localaws.step_functions_speedups:PARSE",
        "AmazonStateLanguageParser.parse(src), a static method",
    ),
    Replacement(
        "step-functions-lambda-client-kept",
        SPEEDUP,
        ("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils:boto_client_for",),
        "localaws.step_functions_speedups:_client_for",
        "lambda_eval_utils.boto_client_for(service, region, state_credentials)",
    ),
    Replacement(
        "step-functions-json-paths-cached",
        SPEEDUP,
        ("moto.stepfunctions.parser.asl.utils.json_path:parse",),
        "localaws.step_functions_speedups:JSON_PATH_PARSE",
        "json_path.parse(path) being a pure function of the path",
    ),
    Replacement(
        "step-functions-result-paths-cached",
        SPEEDUP,
        ("moto.stepfunctions.parser.asl.component.common.path.result_path:parse",),
        "localaws.step_functions_speedups:RESULT_PATH_PARSE",
        "result_path.parse(path) being a pure function of the path",
    ),
    Replacement(
        "step-functions-json-copies",
        SPEEDUP,
        # The interpreter's modules that deep-copy a run's values (each imports copy, and uses only deepcopy).
        tuple(
            f"moto.stepfunctions.parser.asl.{module}:copy"
            for module in (
                "eval.states",
                "eval.environment",
                "eval.event.event_manager",
                "component.state.exec.execute_state",
                "component.common.path.result_path",
                "component.state.exec.state_parallel.state_parallel",
                "component.state.exec.state_task.service.state_task_service",
                "component.common.string.string_expression",
            )
        ),
        "localaws.step_functions_speedups:COPY",
        "the interpreter's modules using only copy.deepcopy of the copy module they import",
    ),
)
