/**
 * The address of every page, in one place: features link to each other's pages through these (a feature
 * never imports another feature), and the shell's navigation uses them too.
 */
const segment = encodeURIComponent;

export const paths = {
  projects: () => "/projects",
  project: (project: string) => `/projects/${segment(project)}`,
  training: (project: string) => `/projects/${segment(project)}/training`,
  models: (project: string) => `/projects/${segment(project)}/models`,
  revision: (project: string, revisionId: string) => `/projects/${segment(project)}/models/${segment(revisionId)}`,
  pipeline: (project: string) => `/projects/${segment(project)}/pipeline`,
  jobs: () => "/jobs",
  job: (jobId: string) => `/jobs/${segment(jobId)}`,
  registry: () => "/registry",
  registeredModel: (name: string) => `/registry/${segment(name)}`,
  registeredVersion: (name: string, number: number) => `/registry/${segment(name)}/versions/${number}`,
  registryHistory: (name: string) => `/registry/${segment(name)}/history`,
  settings: () => "/settings",
};
