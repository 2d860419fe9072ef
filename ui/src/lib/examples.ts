// The example policies and pipelines file of examples/policies (the ones `stepmint policy
// check` is shown with in the README), bundled so the Policies screen can offer them offline.
import awsBuildStepsOnly from "../../../examples/policies/aws-build-steps-only.json?raw";
import awsGood from "../../../examples/policies/aws-good.json?raw";
import awsMistakeBranch from "../../../examples/policies/aws-mistake-branch.json?raw";
import awsMistakeSubUnconstrained from "../../../examples/policies/aws-mistake-sub-unconstrained.json?raw";
import azureCredential from "../../../examples/policies/azure-credential.json?raw";
import pipelines from "../../../examples/policies/bitbucket-pipelines.yml?raw";
import gcpProvider from "../../../examples/policies/gcp-provider.json?raw";
import vaultRole from "../../../examples/policies/vault-role.json?raw";

/** The example bitbucket-pipelines.yml: five steps on branches, pull requests and deployments. */
export const EXAMPLE_PIPELINES: string = pipelines;

/** Example policies by file name, in the order the screen offers them. */
export const EXAMPLE_POLICIES: readonly { name: string; text: string }[] = [
  { name: "aws-good.json", text: awsGood },
  { name: "aws-build-steps-only.json", text: awsBuildStepsOnly },
  { name: "aws-mistake-branch.json", text: awsMistakeBranch },
  { name: "aws-mistake-sub-unconstrained.json", text: awsMistakeSubUnconstrained },
  { name: "vault-role.json", text: vaultRole },
  { name: "gcp-provider.json", text: gcpProvider },
  { name: "azure-credential.json", text: azureCredential },
];
