/**
 * The address of every page, in one place: features link to each other's pages through these (a feature
 * never imports another feature), and the shell's navigation uses them too.
 */
const segment = encodeURIComponent;

export const paths = {
  projects: () => "/projects",
  project: (project: string) => `/projects/${segment(project)}`,
  dataset: (project: string) => `/projects/${segment(project)}/dataset`,
  datasetUpload: (project: string) => `/projects/${segment(project)}/dataset/upload`,
  datasetTransfer: (project: string) => `/projects/${segment(project)}/dataset/transfer`,
  training: (project: string) => `/projects/${segment(project)}/training`,
  trainingJob: (project: string, jobId: string) => `/projects/${segment(project)}/training/${segment(jobId)}`,
  models: (project: string) => `/projects/${segment(project)}/models`,
  compareRevisions: (project: string, revisionIds: string[]) =>
    `/projects/${segment(project)}/models/compare?ids=${revisionIds.map(segment).join(",")}`,
  revision: (project: string, revisionId: string) => `/projects/${segment(project)}/models/${segment(revisionId)}`,
  pipeline: (project: string) => `/projects/${segment(project)}/pipeline`,
  /** The annotation editor: at an item, or (without one) at the first item the filter keeps. */
  annotate: (project: string, itemId?: string, filter?: string) =>
    `/projects/${segment(project)}/annotate${itemId ? `/${segment(itemId)}` : ""}${filter ? `?${filter}` : ""}`,
  labels: (project: string) => `/projects/${segment(project)}/labels`,
  datasetRevisions: (project: string) => `/projects/${segment(project)}/dataset-revisions`,
  datasetRevision: (project: string, number: number) => `/projects/${segment(project)}/dataset-revisions/${number}`,
  jobs: () => "/jobs",
  job: (jobId: string) => `/jobs/${segment(jobId)}`,
  registry: () => "/registry",
  registeredModel: (name: string) => `/registry/${segment(name)}`,
  registeredVersion: (name: string, number: number) => `/registry/${segment(name)}/versions/${number}`,
  registryHistory: (name: string) => `/registry/${segment(name)}/history`,
  settings: () => "/settings",
};
