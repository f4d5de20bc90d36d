// The environment the telemetry tests run ORT in. onnxruntime's 1DS telemetry stays silent on its own
// where a CI marker is set (libonnxruntime.so checks these names; measured: with CI=true no device id is
// written even with ORT_DISABLE_TELEMETRY=0). On a CI machine that would make both the control and the
// real assertion vacuous, so the markers are removed and only ORT_DISABLE_TELEMETRY decides.
const CI_MARKERS = [
  'CI',
  'TF_BUILD',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CIRCLECI',
  'TRAVIS',
  'JENKINS_URL',
  'CODEBUILD_BUILD_ID',
  'BUILDKITE',
  'TEAMCITY_VERSION',
  'APPVEYOR',
  'BITBUCKET_BUILD_NUMBER',
];

/** process.env without the CI markers and without an inherited ORT_DISABLE_TELEMETRY. */
export function telemetryTestEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [...CI_MARKERS, 'ORT_DISABLE_TELEMETRY']) delete env[name];
  return env;
}
